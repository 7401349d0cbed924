"""The Adaptive SGD tab: the Viewer (:mod:`.tab`), its hero and panels."""
