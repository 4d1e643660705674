"""File formats read and written by asot.

Each module is self-contained; import from it directly, e.g. ``from asot.io.labels import
read_labels``. :mod:`asot.io.labels`: groundTruth label files, mapping files, ``.npy`` label
arrays, and atomic writers for label files and JSON.
"""
