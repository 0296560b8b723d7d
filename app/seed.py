"""``flask --app wsgi seed demo``: two demo clinics with staff of every role
and about fifty realistic patients each. Running it again changes nothing."""
import random
from datetime import date, time, timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from app.auth import services as staff
from app.booking import services as booking
from app.core import clock, identity
from app.followups import services as followups
from app.interventions import services as interventions
from app.patients import services as patients
from app.records import services as records
from app.seed_records import CRITICAL_SCENARIOS, seed_results
from app.tagging import services as tagging
from tenants.context import tenant_context
from tenants.db import db
from tenants.services import create_tenant, tenant_by_slug

seed_cli = AppGroup("seed", help="Load demonstration data.")

DEMO_PASSWORD = "careloop-demo"
CLINICS = {"demo": "康宁健康管理中心", "harbor": "海港体检中心"}
STAFF_ROLES = (("owner", "院长"), ("admin", "管理员"), ("doctor", "医生"),
               ("health_manager", "健管师"), ("front_desk", "前台"))

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘"
            "袁蔡蒋余于杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦"
            "邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN_MALE = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林欢阳建国志新"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀英慧玲婷雪琳颖倩洁燕萍红梅兰琴云莉晶月凤玉佳"
AREAS = ("110101", "110105", "310101", "310115", "440103", "440305", "330106", "320102",
         "510107", "420106", "370202", "210102", "350203", "430104", "610113")
STREETS = ("建设路", "人民路", "解放大道", "中山路", "滨江路", "和平街", "文化路", "新华路")
CITIES = ("北京市东城区", "上海市黄浦区", "广州市荔湾区", "深圳市南山区", "杭州市西湖区",
          "南京市玄武区", "成都市武侯区", "武汉市江汉区", "青岛市市南区", "厦门市思明区")
ILLNESSES = ("高血压", "2型糖尿病", "高脂血症", "慢性胃炎", "脂肪肝", "痛风", "甲状腺结节", "支气管哮喘")
SURGERIES = ("阑尾切除术", "胆囊切除术", "剖宫产", "白内障手术", "腹股沟疝修补术")
ALLERGIES = ("青霉素", "磺胺类药物", "海鲜", "花粉", "头孢类药物")
FAMILY = ("父亲：高血压", "母亲：2型糖尿病", "父亲：冠心病", "母亲：乳腺癌", "兄弟：高血压")
MEDICATIONS = ("氨氯地平 5mg 每日一次", "二甲双胍 0.5g 每日两次", "阿托伐他汀 20mg 每晚一次",
               "阿司匹林 100mg 每日一次", "缬沙坦 80mg 每日一次")


def make_id_number(rng: random.Random, born: date, sex: str) -> str:
    order = rng.randrange(0, 50) * 2 + (1 if sex == "M" else 0)
    body = f"{rng.choice(AREAS)}{born:%Y%m%d}{rng.randrange(1, 10)}{order:02d}"[:17]
    return body + identity.check_char(body)


def make_patient(rng: random.Random) -> patients.PatientData:
    sex = rng.choice("MF")
    given = GIVEN_MALE if sex == "M" else GIVEN_FEMALE
    name = rng.choice(SURNAMES) + "".join(rng.choice(given) for _ in range(rng.choice((1, 2, 2))))
    born = clock.today() - timedelta(days=rng.randrange(20 * 365 + 5, 80 * 365 - 5))
    mobile = rng.choice("3456789")
    mobile = f"1{mobile}{rng.randrange(0, 10**9):09d}"
    return patients.PatientData(
        name=name, sex=sex, birth_date=born, mobile=mobile,
        id_number=make_id_number(rng, born, sex) if rng.random() < 0.85 else "",
        address=f"{rng.choice(CITIES)}{rng.choice(STREETS)}{rng.randrange(1, 300)}号",
        emergency_name=rng.choice(SURNAMES) + rng.choice(GIVEN_MALE + GIVEN_FEMALE),
        emergency_phone=f"13{rng.randrange(0, 10**9):09d}",
        source_channel=rng.choice(("walk_in", "referral", "online", "corporate", "community")),
    )


def _add_history(rng: random.Random, patient) -> None:
    pools = (("illness", ILLNESSES, 0.5), ("surgery", SURGERIES, 0.2), ("allergy", ALLERGIES, 0.35),
             ("family", FAMILY, 0.5), ("medication", MEDICATIONS, 0.35))
    asked_allergies = rng.random() < 0.6  # the others were never asked: no allergy banner either way
    for kind, pool, chance in pools:
        if kind == "allergy" and not asked_allergies:
            continue
        if kind == "allergy" and rng.random() >= chance:
            patients.add_history(patient, kind=kind, description="无已知过敏", since_year=None)
            continue
        if kind == "allergy" or rng.random() < chance:
            since = rng.randrange(max(patient.birth_date.year + 15, 1960), clock.today().year + 1)
            patients.add_history(patient, kind=kind, description=rng.choice(pool),
                                 since_year=since if kind in ("illness", "surgery", "medication") else None)
    patients.set_lifestyle(patient, smoking=rng.choice(("never", "never", "former", "current")),
                           alcohol=rng.choice(("none", "occasional", "regular")),
                           exercise=rng.choice(("none", "occasional", "regular")))


def critical_scenario(index: int) -> str | None:
    """Every twelfth patient (the third, the fifteenth, ...) has a critical value in the latest checkup."""
    return CRITICAL_SCENARIOS[(index // 12) % len(CRITICAL_SCENARIOS)] if index % 12 == 2 else None


def seed_clinic(slug: str, name: str, patient_count: int = 50) -> bool:
    """Create one demo clinic; False if it exists already."""
    existing = tenant_by_slug(slug)
    if existing is not None:
        with tenant_context(existing.id):  # clinics seeded before the catalogue existed
            records.catalogue.install_pack()
            interventions.install_advice_pack()
            db.session.commit()
        return False
    tenant = create_tenant(slug, name, admin_email=f"owner@{slug}.example.cn", admin_password=DEMO_PASSWORD)
    rng = random.Random(slug)
    with tenant_context(tenant.id):
        members = {}
        for role, label in STAFF_ROLES[1:]:
            member = staff.add_staff(f"{role.replace('_', '')}@{slug}.example.cn",
                                     f"{label}{rng.choice(SURNAMES)}", role, DEMO_PASSWORD)
            members[role] = member.id
        doctor_id = members.get("doctor")
        enrolled = []
        indicators: dict = {}  # the catalogue by code, looked up once for every patient
        for index in range(patient_count):
            patient = patients.enrol(make_patient(rng), consent_version=current_app.config["CONSENT_VERSION"])
            patient.health_manager_id = members.get("health_manager")
            _add_history(rng, patient)
            seed_results(patient, rng, doctor_id, critical=critical_scenario(index), indicators=indicators)
            enrolled.append(patient)
        _add_packages()
        db.session.flush()
        _seed_today(rng, enrolled, members.get("health_manager"))
        db.session.commit()
        tagging.evaluate_rules(commit=True)
        db.session.commit()
    return True


DEMO_PACKAGES = [
    booking.PackageData(name="基础健康体检", price="399", category="general", fasting=True,
                        description="血压、血糖、血脂、肝肾功能和血常规。",
                        items="一般检查: 8480-6, 8462-4, 39156-5\n空腹血糖: 14771-0\n"
                              "血脂四项: 14647-2, 22748-8, 14646-4, 14927-8\n"
                              "肝功能: 1742-6, 1920-8\n肾功能: 14682-9, 14933-6\n血常规: 718-7"),
    booking.PackageData(name="中老年慢病筛查", price="1280", category="chronic", age_min=45, fasting=True,
                        no_alcohol=True, description="在基础体检之上加糖化血红蛋白、尿微量白蛋白和甲状腺功能。",
                        items="一般检查: 8480-6, 8462-4, 39156-5, 8280-0\n糖化血红蛋白: 4548-4\n"
                              "尿微量白蛋白/肌酐: 9318-7\n甲状腺功能: 3016-3\n"
                              "血脂四项: 14647-2, 22748-8, 14646-4, 14927-8"),
    booking.PackageData(name="女性健康体检", price="899", category="women", sex="F",
                        description="基础体检加妇科检查。",
                        items="一般检查: 8480-6, 8462-4, 39156-5\n妇科检查\n乳腺超声"),
]


def _add_packages() -> None:
    for data in DEMO_PACKAGES:
        booking.save_package(data)


def _seed_today(rng: random.Random, enrolled: list, manager_id: int | None) -> None:
    """Something for every home page on the clinic's today at seed time: bookings today (one checked in),
    follow-up calls due today and overdue, one contact already made this week."""
    today = clock.today()
    if not booking.availability.slots_for(today, today)[today]:  # a Sunday: the desk opens for the demo
        booking.add_override(today, time(8, 0), time(11, 0), 20)
    general = next(p for p in booking.list_packages() if p.category == "general")
    slots = booking.availability.slots_for(today, today)[today]
    earlier = clock.utcnow() - timedelta(days=3)  # booked before today's cut-off
    for n, patient in enumerate(enrolled[:6]):
        order = booking.orders.book(general.id, today, slots[n % len(slots)].start, patient,
                                    idempotency_key=f"demo-today-{n}", actor_type="staff", now=earlier)
        if n == 0:
            booking.orders.transition(order, "checked_in", actor_type="staff")
    if manager_id is None or len(enrolled) < 2:
        return
    callers = enrolled[6:14] or enrolled[:-1]  # a small demo shares its patients between bookings and calls
    for n, patient in enumerate(callers):
        due = today if n % 2 == 0 else today - timedelta(days=rng.randint(1, 5))
        followups.add_task(patient.id, assignee_id=manager_id, due_date=due)
    done = followups.add_task(enrolled[-1].id, assignee_id=manager_id, due_date=today - timedelta(days=1))
    followups.record_contact(done, followups.ContactData(result="reached", notes="血压平稳，按时服药。",
                                                         version=str(done.version)), actor_id=manager_id)


@seed_cli.command("demo")
@click.option("--patients", "patient_count", default=50, show_default=True)
def demo_command(patient_count: int):
    for slug, name in CLINICS.items():
        created = seed_clinic(slug, name, patient_count)
        click.echo(f"{'seeded' if created else 'already there:'} {slug} ({name})")
    click.echo(f"\nSign in with any of these (password: {DEMO_PASSWORD}):")
    for slug in CLINICS:
        for role, _label in STAFF_ROLES:
            email = f"owner@{slug}.example.cn" if role == "owner" else f"{role.replace('_', '')}@{slug}.example.cn"
            click.echo(f"  http://{slug}.localhost:5000  {role:15} {email}")
