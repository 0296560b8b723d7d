"""Shared plumbing: htmx rendering, jobs, PDF, storage, i18n, security."""
