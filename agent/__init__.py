"""Cantina Print printer agent.

A small standalone program that runs next to a receipt printer, connects out to the
Cantina Print server over a WebSocket (``/ws/agent/``), prints the jobs it receives with
python-escpos and acknowledges them. It never imports Django: it installs with only
``requirements/agent.txt``.
"""

__version__ = "1.0.0"
