"""Interactive explorers (anywidget/ipywidgets) for the book's chapters."""
