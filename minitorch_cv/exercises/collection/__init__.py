"""The exercises, one module each, numbered in lecture order (``e01_topo_sort`` ...).

Each module defines ``EXERCISE`` (a ``core.Exercise``); ``core.catalogue()`` collects them
and ``core.get(name)`` imports only ``eNN_<name>``.
"""
