"""Pathway authoring: drafts judged on every save, four-eyes review, the safety gate, roll back, import/export."""
