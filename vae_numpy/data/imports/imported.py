"""An import read back as a dataset, every file checked against its manifest."""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae_numpy.data.dataset import Dataset, FileCheck, RawDataset, check_splits
from vae_numpy.data.imports.settings import FILES, MANIFEST, NAME_PATTERN, imports_root
from vae_numpy.data.imports.write import file_sha256, manifest_sha256
from vae_numpy.run.errors import DataError


@dataclass(frozen=True)
class ImportedDataset(Dataset):
    """A folder written by ``import_dataset``: read memory-mapped, checked against its
    manifest on every use."""

    name: str
    folder: Path
    system_hint: str = "import it again with vae data import"
    mirrors: tuple[str, ...] = ()

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.manifest()["classes"])

    def manifest(self) -> dict:
        """manifest.json, its own checksum verified: an edited class name or shape is
        refused like an edited array."""
        path = self.folder / MANIFEST
        try:
            manifest = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            raise DataError(
                f"{path}: unreadable manifest ({err}); import the dataset again"
            ) from None
        if not isinstance(manifest, dict) or "manifest_sha256" not in manifest:
            raise DataError(
                f"{path}: the manifest holds no checksum of its own content (it was written "
                "by an older version of the package, or altered); import the dataset again"
            )
        if manifest["manifest_sha256"] != manifest_sha256(manifest):
            raise DataError(
                f"{path}: SHA-256 mismatch of the manifest's own content (it was altered "
                "after the import); import the dataset again"
            )
        return manifest

    def file_names(self) -> dict[str, str]:
        return dict(FILES)

    def find(self, options) -> tuple[dict[str, Path], str]:
        return {k: self.folder / f for k, f in FILES.items()}, f"import ({self.folder})"

    def read(self, paths: dict[str, Path], origin: str) -> RawDataset:
        manifest = self.manifest()
        checks, arrays = [], {}
        for key, path in paths.items():
            if not path.is_file():
                raise DataError(f"{path} is missing: the import was altered; import it again")
            digest = file_sha256(path)
            if digest != manifest["files"][path.name]:
                raise DataError(
                    f"{path}: SHA-256 mismatch with the manifest (the file was altered after "
                    "the import); import the dataset again"
                )
            checks.append(FileCheck(path, digest, "recorded content"))
            arrays[key] = np.load(path, mmap_mode="r" if key.endswith("images") else None)
        raw = RawDataset(
            name=self.name,
            classes=tuple(manifest["classes"]),
            origin=f"{origin}, from {manifest['source']}",
            files=tuple(checks),
            **arrays,
        )
        return check_splits(raw)


def find_import(name: str) -> ImportedDataset | None:
    """The import called ``name`` in the user cache, or at the path ``name``."""
    for folder in (Path(name).expanduser(), imports_root() / name):
        if NAME_PATTERN.fullmatch(folder.name) and (folder / MANIFEST).is_file():
            return ImportedDataset(folder.name, folder)
    return None
