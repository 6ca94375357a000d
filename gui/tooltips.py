"""Long tooltips wrap: Qt draws a plain-text tooltip on one line (some of ours would be 1,300 px wide), but wraps
rich text at a readable width, so a long plain tooltip is handed to Qt as a paragraph of rich text."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import Qt
from PySide6.QtWidgets import QWidget

LONG = 80  # characters: shorter tooltips stay one line


def as_paragraph(tip: str) -> str:
    """A plain tooltip as rich text that Qt wraps; rich text and short tips are returned as they are."""
    if len(tip) <= LONG or Qt.mightBeRichText(tip):
        return tip
    return "<p>" + escape(tip).replace("\n", "<br>") + "</p>"


def wrap_tooltips(root: QWidget) -> None:
    """Wrap the tooltips of ``root`` and every widget inside it."""
    for widget in [root, *root.findChildren(QWidget)]:
        wrapped = as_paragraph(widget.toolTip())
        if wrapped != widget.toolTip():
            widget.setToolTip(wrapped)


class WrapTooltips(QObject):
    """Installed on the application: a tooltip set later (e.g. after a run) is wrapped too."""

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.ToolTipChange and isinstance(obj, QWidget):
            wrapped = as_paragraph(obj.toolTip())
            if wrapped != obj.toolTip():
                obj.setToolTip(wrapped)
        return False
