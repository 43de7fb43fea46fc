"""The XML a learning platform reads first in a package (pure): imsmanifest.xml for SCORM 1.2 and SCORM 2004
4th Edition, cmi5.xml for cmi5. One course is one launchable unit: its lessons are pages inside it."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from .data import PackagePlan

XSI = "http://www.w3.org/2001/XMLSchema-instance"

SCORM12 = {
    "": "http://www.imsproject.org/xsd/imscp_rootv1p1p2",
    "adlcp": "http://www.adlnet.org/xsd/adlcp_rootv1p2",
}
SCORM12_SCHEMAS = ("http://www.imsproject.org/xsd/imscp_rootv1p1p2 imscp_rootv1p1p2.xsd "
                   "http://www.imsglobal.org/xsd/imsmd_rootv1p2p1 imsmd_rootv1p2p1.xsd "
                   "http://www.adlnet.org/xsd/adlcp_rootv1p2 adlcp_rootv1p2.xsd")

SCORM2004 = {
    "": "http://www.imsglobal.org/xsd/imscp_v1p1",
    "adlcp": "http://www.adlnet.org/xsd/adlcp_v1p3",
    "adlseq": "http://www.adlnet.org/xsd/adlseq_v1p3",
    "adlnav": "http://www.adlnet.org/xsd/adlnav_v1p3",
    "imsss": "http://www.imsglobal.org/xsd/imsss",
}
SCORM2004_SCHEMAS = ("http://www.imsglobal.org/xsd/imscp_v1p1 imscp_v1p1.xsd "
                     "http://www.adlnet.org/xsd/adlcp_v1p3 adlcp_v1p3.xsd "
                     "http://www.adlnet.org/xsd/adlseq_v1p3 adlseq_v1p3.xsd "
                     "http://www.adlnet.org/xsd/adlnav_v1p3 adlnav_v1p3.xsd "
                     "http://www.imsglobal.org/xsd/imsss imsss_v1p0.xsd")

CMI5 = "https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd"


def _element(parent: ET.Element, name: str, text: str | None = None, **attributes: str) -> ET.Element:
    # Names keep their prefixes as written ("adlcp:scormtype"): the root declares them, so no registry of
    # prefixes (process-wide state in ElementTree) is needed.
    element = ET.SubElement(parent, name, {key.replace("__", ":"): value for key, value in attributes.items()})
    element.text = text
    return element


def _root(name: str, namespaces: dict[str, str], **attributes: str) -> ET.Element:
    declared = {("xmlns:" + prefix if prefix else "xmlns"): uri for prefix, uri in namespaces.items()}
    return ET.Element(name, {**declared, **{key.replace("__", ":"): value for key, value in attributes.items()}})


def _serialised(root: ET.Element) -> bytes:
    ET.indent(root)
    # ElementTree's own declaration is single-quoted; some players' parsers read only the usual form.
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n").encode()


def _content_package(plan: PackagePlan, namespaces: dict[str, str], schemas: str, version: str,
                     sco_attribute: str) -> bytes:
    root = _root("manifest", {**namespaces, "xsi": XSI}, identifier=plan.identifier, version="1",
                 xsi__schemaLocation=schemas)
    metadata = _element(root, "metadata")
    _element(metadata, "schema", "ADL SCORM")
    _element(metadata, "schemaversion", version)
    organizations = _element(root, "organizations", default="organization")
    organization = _element(organizations, "organization", identifier="organization")
    _element(organization, "title", plan.title)
    item = _element(organization, "item", identifier="course", identifierref="course-pages")
    _element(item, "title", plan.title)
    resources = _element(root, "resources")
    resource = _element(resources, "resource", identifier="course-pages", type="webcontent", href=plan.launch,
                        **{f"adlcp__{sco_attribute}": "sco"})
    for path in plan.files:
        _element(resource, "file", href=path)
    return _serialised(root)


def scorm12_manifest(plan: PackagePlan) -> bytes:
    return _content_package(plan, SCORM12, SCORM12_SCHEMAS, "1.2", "scormtype")


def scorm2004_manifest(plan: PackagePlan) -> bytes:
    # "scormType" with a capital T in 2004, "scormtype" in 1.2: each player reads only its own spelling.
    return _content_package(plan, SCORM2004, SCORM2004_SCHEMAS, "2004 4th Edition", "scormType")


def _title_and_description(parent: ET.Element, plan: PackagePlan) -> None:
    for name, text in (("title", plan.title), ("description", plan.description)):
        _element(_element(parent, name), "langstring", text, lang=plan.language)


def cmi5_course_structure(plan: PackagePlan) -> bytes:
    root = _root("courseStructure", {"": CMI5})
    _title_and_description(_element(root, "course", id=plan.course_iri), plan)
    # moveOn Completed: the unit is done when every lesson is; its exercises are self-checks, not a score.
    unit = _element(root, "au", id=plan.unit_iri, moveOn="Completed", launchMethod="AnyWindow")
    _title_and_description(unit, plan)
    _element(unit, "url", plan.launch)
    return _serialised(root)
