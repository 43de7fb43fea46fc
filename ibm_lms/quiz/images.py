"""Images authors put in questions: checked by decoding them, re-encoded, kept per tenant by their digest.

A file is believed to be an image only once Pillow has decoded every pixel of it; it is then
written anew, so nothing but pixels survives (no metadata with a trainee's location, no script
riding in a polyglot file). Questions refer to an image as `![alt](image:<digest>)`.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select

from ibm_lms.clock import utcnow
from ibm_lms.errors import N_, Phrase
from ibm_lms.extensions import db

from .errors import ImageNotFound, ImageRefused
from .models import QuizImage

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 4096 * 4096
FORMATS = {"PNG": ("image/png", "PNG"), "JPEG": ("image/jpeg", "JPEG"), "WEBP": ("image/webp", "WEBP"),
           "GIF": ("image/png", "PNG")}
DIGEST = re.compile(r"[0-9a-f]{64}\Z")
REFERENCE = re.compile(r"!\[([^\]\n]{0,300})\]\(image:([0-9a-f]{64})\)")


def cleaned(data: bytes) -> tuple[bytes, str, int, int]:
    """The image decoded and written anew: (bytes, media type, width, height); ImageRefused otherwise."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageRefused(reason=Phrase(N_("it is larger than %(size)s MB"), size=MAX_UPLOAD_BYTES // (1024 * 1024)),
                           status_code=413)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in FORMATS:
                    raise ImageRefused(reason=Phrase(N_("only PNG, JPEG, WebP and GIF images are accepted")))
                if image.width * image.height > MAX_PIXELS:
                    raise ImageRefused(reason=Phrase(N_("it has more than 4096 × 4096 pixels")))
                media_type, write_as = FORMATS[image.format]
                image.load()
                frame = image.convert("RGBA" if image.mode in ("P", "LA", "RGBA") or write_as == "PNG" else "RGB")
                if write_as == "JPEG":
                    frame = frame.convert("RGB")
                out = io.BytesIO()
                frame.save(out, write_as, **({"quality": 88} if write_as in ("JPEG", "WEBP") else {"optimize": True}))
                return out.getvalue(), media_type, image.width, image.height
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # Pillow stops at open() for images far past its own limit, before our count of pixels.
        raise ImageRefused(reason=Phrase(N_("it has more than 4096 × 4096 pixels"))) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ImageRefused(reason=Phrase(N_("the file is not an image that can be read"))) from error


def store(tenant_id: int, user_id: int | None, data: bytes) -> str:
    """Keeps the cleaned image for the tenant (once per digest); returns its digest."""
    image, media_type, width, height = cleaned(data)
    digest = hashlib.sha256(image).hexdigest()
    found = db.session.execute(select(QuizImage.id).where(
        QuizImage.tenant_id == tenant_id, QuizImage.digest == digest)).first()
    if found is None:
        db.session.add(QuizImage(tenant_id=tenant_id, digest=digest, media_type=media_type, data=image,
                                 width=width, height=height, created_at=utcnow(), created_by=user_id))
    return digest


def load(tenant_id: int, digest: str) -> QuizImage:
    if not DIGEST.match(digest):
        raise ImageNotFound()
    found = db.session.execute(select(QuizImage).where(
        QuizImage.tenant_id == tenant_id, QuizImage.digest == digest)).scalar_one_or_none()
    if found is None:
        raise ImageNotFound()
    return found


def missing(tenant_id: int, texts: list[str]) -> list[str]:
    """Digests the texts refer to that the tenant has not uploaded."""
    wanted = {digest for text in texts for _, digest in REFERENCE.findall(text)}
    if not wanted:
        return []
    have = set(db.session.execute(select(QuizImage.digest).where(
        QuizImage.tenant_id == tenant_id, QuizImage.digest.in_(wanted))).scalars())
    return sorted(wanted - have)
