"""Carepath engine: pathway library, runtime, persistence, timers and adherence. No Flask in here."""
