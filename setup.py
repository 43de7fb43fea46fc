"""The build adds what the server needs at run time besides the package's own files: the translation catalogs,
compiled, and the shipped courses, under ibm_lms/bundled/ (a checkout reads them from translations/ and
courses/ instead). Everything else is declared in setup.cfg."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithCatalogs(build_py):
    def run(self):
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        bundled = Path(self.build_lib) / "ibm_lms" / "bundled"
        for po_file in sorted((ROOT / "translations").glob("*/LC_MESSAGES/messages.po")):
            locale = po_file.parent.parent.name
            target = bundled / "translations" / locale / "LC_MESSAGES" / "messages.mo"
            target.parent.mkdir(parents=True, exist_ok=True)
            with po_file.open("rb") as source:
                catalog = read_po(source, locale=locale)
            with target.open("wb") as handle:
                write_mo(handle, catalog, use_fuzzy=False)
        courses = bundled / "courses"
        if courses.exists():
            shutil.rmtree(courses)
        shutil.copytree(ROOT / "courses", courses, ignore=shutil.ignore_patterns(".*", "__pycache__"))


setup(cmdclass={"build_py": BuildWithCatalogs})
