# Debian's Chromium for the dashboard's browser tests (tests/server/test_dashboard_browser.py), installed from the
# distribution's packages when missing. KILN_REQUIRE_BROWSER makes those tests fail rather than skip without it.

install_chromium() {
    if ! command -v chromium > /dev/null; then
        echo "installing Chromium from the distribution's packages"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq chromium > /dev/null
    fi
    chromium --version 2> /dev/null
    export KILN_REQUIRE_BROWSER=1
}
