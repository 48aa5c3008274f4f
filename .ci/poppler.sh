# poppler's tools (pdftoppm, pdfimages, pdftotext) for the PDF report's tests (tests/report/test_pdf.py), installed
# from the distribution's packages when missing. KILN_REQUIRE_PDFTOPPM makes those tests fail rather than skip.

install_poppler() {
    if ! command -v pdftoppm > /dev/null; then
        echo "installing poppler-utils from the distribution's packages"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq poppler-utils > /dev/null
    fi
    pdftoppm -v 2>&1 | sed -n 1p || true  # sed reads it all: no SIGPIPE under pipefail
    export KILN_REQUIRE_PDFTOPPM=1
}
