"""The organisation-wide year-end export (issue 5): one .xlsx workbook and a .zip of every group's
annual work report PDF, built by background tasks in resumable parts (docs/export.md)."""
