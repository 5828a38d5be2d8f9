"""`Carepath`: the engine assembled from settings. The web app, the CLI, the worker and tests all use it."""
from __future__ import annotations

from .clock import Clock
from .db import make_engine, make_sessionmaker
from .library import SpecCache, sync_library
from .pathway_files import FileSet
from .errors import PathwayInvalid
from .runtime import Runtime
from .settings import Settings


class Carepath:
    """One per process (or per test): a database connection pool, the spec cache and the runtime."""

    def __init__(self, settings: Settings, clock: Clock | None = None):
        self.settings = settings
        self.clock = clock or Clock()
        self.engine = make_engine(settings.database_url)
        self.db = make_sessionmaker(self.engine)
        self.specs = SpecCache()
        self.runtime = Runtime(self.db, self.specs, self.clock, settings.step_time_limit)

    def library_files(self) -> FileSet:
        files, findings = FileSet.from_library(self.settings.workflows_dir, self.settings.forms_dir)
        if findings:
            raise PathwayInvalid(findings)
        return files

    def sync_library(self):
        """Publish workflows/ and forms/ as new versions where they changed. Returns the new versions."""
        return sync_library(self.db, self.library_files(), self.clock.now())

    def close(self) -> None:
        self.engine.dispose()
