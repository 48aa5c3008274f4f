"""A simulated scanning-probe microscope: samples (``samples``), reward functions of a spectrum (``rewards``) and
the instrument with the instruction set load_sample / overview_scan / spectrum(x, y) (``instrument``).

See docs/lab.md, "A simulated scanning-probe microscope".
"""
