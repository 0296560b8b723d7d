"""The clinic names itself in its profile (the platform's registered name stays as it was) and its logo
shows with that name in the staff top bar and the portal's header, in a box sized before it loads."""
import io
import re
import struct
import zlib

import pytest
from sqlalchemy import select

from app.clinic import services as clinic
from app.core.audit import AuditEvent
from tenants.context import tenant_context
from tenants.db import db
from tenants.models import Tenant

pytestmark = [pytest.mark.postgres]
PROFILE = {"timezone": "Asia/Shanghai", "address": "上海市黄浦区人民路 1 号", "phone": "021-6000 1234"}


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x13\x6b\x60" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def test_the_owner_renames_the_clinic_and_every_page_shows_the_new_name(app, demo, signed_in):
    owner = signed_in("owner")
    page = owner.get("/settings/clinic").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="name"[^>]*value="' + demo.name + '"', page)
    saved = owner.submit("/settings/clinic", dict(PROFILE, name="  阳光   健康管理中心 "))
    assert saved.status_code == 302
    home = owner.get("/settings").get_data(as_text=True)
    assert re.search(r'<div class="brand">\s*<a href="/">阳光 健康管理中心</a>', home)
    shop = app.test_client().get("/shop", headers={"Host": demo.host}).get_data(as_text=True)
    assert "阳光 健康管理中心" in shop and "<title>" in shop
    with app.app_context(), tenant_context(demo.id):
        assert db.session.get(Tenant, demo.id).name == demo.name  # the platform's record is the platform's
        assert clinic.name() == "阳光 健康管理中心"
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "clinic_profile_changed")
                                   .order_by(AuditEvent.at.desc())).first()
        assert event.detail["name"] == [demo.name, "阳光 健康管理中心"]


@pytest.mark.parametrize(("typed", "message"), [("   ", "请填写诊所名称。"), ("长" * 121, "最多 120 个字。")])
def test_a_missing_or_too_long_name_is_said_beside_the_field_and_the_typing_kept(app, demo, signed_in, typed,
                                                                               message):
    owner = signed_in("owner")
    refused = owner.submit("/settings/clinic", dict(PROFILE, name=typed, address="新地址 8 号"))
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert re.search(r'<input aria-describedby="name-hint name-error" aria-invalid="true"[^>]*id="name"', page)
    assert f'<p class="error" id="name-error">{message}</p>' in page
    if typed.strip():
        assert f'value="{typed}"' in page
    assert 'value="新地址 8 号"' in page
    with app.app_context(), tenant_context(demo.id):
        assert clinic.name() == demo.name and clinic.contact().address != "新地址 8 号"


def test_a_form_without_the_name_leaves_it(app, demo, signed_in):
    assert signed_in("owner").submit("/settings/clinic", PROFILE).status_code == 302
    with app.app_context(), tenant_context(demo.id):
        assert clinic.name() == demo.name


def test_the_logo_shows_with_the_name_in_the_top_bar_and_the_portal_header(app, demo, signed_in):
    owner = signed_in("owner")
    upload = dict(PROFILE, name=demo.name, logo=(io.BytesIO(png(200, 100)), "logo.png"))
    assert owner.submit("/settings/clinic", upload, content_type="multipart/form-data").status_code == 302
    staff_page = owner.get("/settings").get_data(as_text=True)
    logo = re.search(r'<img class="brand-logo" src="(/settings/clinic/logo)" width="64" height="32" '
                     r'alt="' + demo.name + '">', staff_page)
    assert logo, staff_page[:2000]
    visitor = app.test_client()
    portal = visitor.get("/shop", headers={"Host": demo.host}).get_data(as_text=True)
    assert logo.group(0) in portal
    image = visitor.get(logo.group(1), headers={"Host": demo.host})
    assert image.status_code == 200 and image.mimetype == "image/png"
    wide = dict(upload, logo=(io.BytesIO(png(800, 40)), "wide.png"))
    assert owner.submit("/settings/clinic", wide, content_type="multipart/form-data").status_code == 302
    top_bar = owner.get("/settings").get_data(as_text=True)
    assert re.search(r'<img class="brand-logo" src="[^"]+" width="160" height="8"', top_bar)
    removed = dict(PROFILE, name=demo.name, remove_logo="y")
    assert owner.submit("/settings/clinic", removed).status_code == 302
    assert "brand-logo" not in owner.get("/settings").get_data(as_text=True)


def test_image_size_reads_png_and_jpeg_headers():
    assert clinic.image_size(png(3, 7)) == (3, 7)
    jpeg = (b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + b"\x00" * 9
            + b"\xff\xc2" + struct.pack(">HBHHB", 17, 8, 480, 640, 3) + b"\x00" * 9)
    assert clinic.image_size(jpeg) == (640, 480)
    assert clinic.image_size(b"\xff\xd8\xff\xe0\x00") is None
