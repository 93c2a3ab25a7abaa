"""Preflight's analyzer: reads a Flask repository and reports what will break on Railway.

It reads files and parses Python with libcst; it never imports or runs the
code it scans.
"""

from analyzer.engine import analyze
from analyzer.platform import Platform, PlatformError
from analyzer.report import Finding, Report, Severity
from analyzer.version import __version__

__all__ = ["Finding", "Platform", "PlatformError", "Report", "Severity", "__version__", "analyze"]
