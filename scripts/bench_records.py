"""Report import and the trend page: 10,000 ORU^R01 messages, one patient's 20 years.

In its own database (careloop_bench_records, dropped and recreated) and Redis db
(REDIS_URL, default redis://127.0.0.1:6379/10, FLUSHDB: that db only) this script
1. creates one clinic (its indicator catalogue installed as for every new
   clinic), maps one lab's local codes on its lab-codes table, adds a doctor and
   enrols BENCH_PATIENTS (2,000) patients through patients.services.enrol;
2. writes BENCH_MESSAGES (10,000) ORU^R01 messages into one file: 15 OBX each
   from three labs (LOINC codes in SI units with flags; local codes the clinic
   has mapped, units sometimes left out; the mg/dL LOINC codes), realistic
   values drifting over the years, patients named by card number, ID number
   only, or the lab's own number with name and birth date; some corrections
   (OBX-11 C) of earlier reports, some for nobody in the clinic, some with a
   code nobody mapped. It imports the file with importer.import_file as
   `flask records import` does (commit_every=200), prints results/s (target
   500/s) and checks the summary against what the file holds;
3. imports the same file again: nothing new may be stored;
4. imports 20 yearly checkups of 28 measured indicators (plus the computed BMI
   and eGFR: 30) for one patient and times GET /patients/<id>/records through
   the Flask test client signed in as the doctor: p50/p95 (target p95 < 150 ms),
   status 200 and one SVG chart per indicator (systolic and diastolic pressure in one).
The CI server runs PostgreSQL with autovacuum off; the script then ANALYZEs the tables every 15 s
while it measures, as autovacuum would in production (see keep_statistics).
A benchmark, not a test: missed targets are reported, only errors exit non-zero.
Environment: BENCH_DATABASE_URL, BENCH_DATABASE_OWNER_URL, REDIS_URL, BENCH_PATIENTS,
BENCH_MESSAGES, BENCH_PAGE_REQUESTS; BENCH_PROFILE=FILE writes a cProfile of the first import.
"""
import cProfile
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import benchdb  # scripts/benchdb.py, beside this script
import psycopg
from flask import current_app
from flask_migrate import upgrade
from redis import Redis
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app import create_app
from app.auth import services as staff
from app.core import clock
from app.patients import services as patients
from app.records import catalogue, importer
from app.records.models import Alert, AlertItem, ExamReport, Indicator, Observation
from app.seed import make_id_number, make_patient
from tenants.context import tenant_context
from tenants.db import db
from tenants.services import create_tenant

ROOT = Path(__file__).resolve().parent.parent
APP_URL, OWNER_URL = benchdb.urls("careloop_bench_records")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/10")
PATIENTS = int(os.environ.get("BENCH_PATIENTS", "2000"))
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "10000"))
PAGE_REQUESTS = int(os.environ.get("BENCH_PAGE_REQUESTS", "60"))
PROFILE = os.environ.get("BENCH_PROFILE", "")
DATA_KEY, SECRET_KEY = "careloop bench data key", "careloop-bench-secret-key-0123456789abcdef"
SLUG, PASSWORD = "benchrec", "bench-password-123"
DOCTOR_EMAIL = f"doctor@{SLUG}.example.cn"
RESULTS_PER_MESSAGE, CORRECTIONS, UNMATCHED, UNMAPPED, RETRACTIONS = 15, 50, 20, 100, 100
ANALYZE_EVERY = 15.0  # seconds, while autovacuum is off (see keep_statistics)
TABLES = ("patients", "indicators", "lab_codes", "exam_reports", "observations", "alerts", "alert_items",
          "notifications")
IMPORT_TARGET, PAGE_TARGET_MS, PAGE_WARMUP = 500.0, 150.0, 5
TREND_YEARS, FIRST_YEAR = 20, 2006

# code: (name, men's mean, women's mean, spread, decimals, printed range (men, women), skewed)
TESTS = {
    "8480-6": ("收缩压", 126, 118, 14, 0, ("90-139", "90-139"), False),
    "8462-4": ("舒张压", 80, 75, 9, 0, ("60-89", "60-89"), False),
    "8867-4": ("心率", 74, 76, 8, 0, ("60-100", "60-100"), False),
    "8302-2": ("身高", 171, 159, 6, 1, ("", ""), False),
    "29463-7": ("体重", 72, 58, 10, 1, ("", ""), False),
    "8280-0": ("腰围", 86, 78, 8, 1, ("<85", "<80"), False),
    "14771-0": ("空腹血糖", 5.4, 5.2, 0.7, 2, ("3.9-6.1", "3.9-6.1"), True),
    "4548-4": ("糖化血红蛋白", 5.6, 5.5, 0.5, 1, ("4.0-6.0", "4.0-6.0"), True),
    "14647-2": ("总胆固醇", 4.9, 4.8, 0.8, 2, ("<5.2", "<5.2"), False),
    "22748-8": ("低密度脂蛋白胆固醇", 3.0, 2.9, 0.7, 2, ("<3.4", "<3.4"), False),
    "14646-4": ("高密度脂蛋白胆固醇", 1.2, 1.4, 0.25, 2, (">1.0", ">1.0"), False),
    "14927-8": ("甘油三酯", 1.5, 1.2, 0.5, 2, ("<1.7", "<1.7"), True),
    "1742-6": ("丙氨酸氨基转移酶", 26, 19, 9, 0, ("9-50", "7-40"), True),
    "1920-8": ("天门冬氨酸氨基转移酶", 24, 21, 6, 0, ("15-40", "13-35"), True),
    "2324-2": ("γ-谷氨酰转移酶", 30, 20, 12, 0, ("10-60", "7-45"), True),
    "14682-9": ("肌酐", 80, 60, 12, 0, ("57-111", "41-81"), False),
    "14933-6": ("尿酸", 370, 290, 65, 0, ("208-428", "155-357"), False),
    "9318-7": ("尿微量白蛋白/肌酐", 10, 11, 7, 1, ("<30", "<30"), True),
    "718-7": ("血红蛋白", 150, 132, 10, 0, ("130-175", "115-150"), False),
    "3016-3": ("促甲状腺激素", 2.0, 2.3, 0.9, 2, ("0.27-4.2", "0.27-4.2"), True),
}
CORE = ("8480-6", "8462-4", "8867-4", "8302-2", "29463-7", "14771-0", "14647-2", "14682-9", "1742-6")
# the mg/dL LOINC codes of the pack's aliases, and g/dL haemoglobin
US_CODES = {"14771-0": ("1558-6", "mg/dL", 1 / 0.055506, 0), "14647-2": ("2093-3", "mg/dL", 1 / 0.02586, 0),
            "22748-8": ("13457-7", "mg/dL", 1 / 0.02586, 0), "14646-4": ("2085-9", "mg/dL", 1 / 0.02586, 0),
            "14927-8": ("2571-8", "mg/dL", 1 / 0.01129, 0), "14682-9": ("2160-0", "mg/dL", 1 / 88.4, 2),
            "14933-6": ("3084-1", "mg/dL", 1 / 59.48, 1), "718-7": ("718-7", "g/dL", 0.1, 1)}
# the local codes one lab sends, mapped by the clinic on its lab-codes page
LOCAL_CODES = {"8480-6": "SBP", "8462-4": "DBP", "8867-4": "PR", "8302-2": "SG", "29463-7": "TZ", "8280-0": "YW",
               "14771-0": "GLU", "4548-4": "HBA1C", "14647-2": "TC", "22748-8": "LDL-C", "14646-4": "HDL-C",
               "14927-8": "TG", "1742-6": "ALT", "1920-8": "AST", "2324-2": "GGT", "14682-9": "CREA",
               "14933-6": "UA", "9318-7": "MALB/CR", "718-7": "HGB", "3016-3": "TSH"}
# clinic-local indicators (not in the pack), for the trend patient's 30 indicators
LOCAL_INDICATORS = {
    "WBC": ("白细胞计数", "White blood cells", "10*9/L", "blood", 6.2, 1.2, 2, "3.5-9.5"),
    "RBC": ("红细胞计数", "Red blood cells", "10*12/L", "blood", 4.8, 0.35, 2, "4.3-5.8"),
    "PLT": ("血小板计数", "Platelets", "10*9/L", "blood", 220, 45, 0, "125-350"),
    "TBIL": ("总胆红素", "Total bilirubin", "umol/L", "liver", 13, 4, 1, "0-21"),
    "ALP": ("碱性磷酸酶", "Alkaline phosphatase", "U/L", "liver", 75, 18, 0, "45-125"),
    "BUN": ("尿素", "Urea", "mmol/L", "kidney", 5.2, 1.1, 2, "3.1-8.0"),
    "HSCRP": ("超敏C反应蛋白", "hs-CRP", "mg/L", "other", 1.5, 1.0, 2, "<3"),
    "25OHD": ("25-羟基维生素D", "25-OH vitamin D", "ng/mL", "other", 24, 7, 1, "30-100"),
}
LABS = (("RJLAB", 0.5), ("HXLIS", 0.3), ("MNLAB", 0.2))  # LOINC + flags, local codes, US units
UNITS: dict[str, str] = {}  # code -> catalogue unit, read from the clinic's catalogue



def recreate_database() -> None:
    benchdb.recreate(OWNER_URL, APP_URL)
    Redis.from_url(REDIS_URL).flushdb()  # the alerts' notification jobs land here


def make_app():
    return create_app({"TESTING": True, "CARELOOP_ENV": "development", "SQLALCHEMY_DATABASE_URI": APP_URL,
                       "DATABASE_OWNER_URL": OWNER_URL, "DATA_KEY": DATA_KEY, "SECRET_KEY": SECRET_KEY,
                       "REDIS_URL": REDIS_URL, "STORAGE_URL": "file:///tmp/careloop-bench-records-storage"})


@contextmanager
def keep_statistics():
    """Stand in for autovacuum while the block runs, if the server has it off (the CI configuration
    does: conf.d/90-ci.conf). Without it the tables filled here are never analyzed, and PostgreSQL
    plans every query for an empty table: a patient's lookups then scan the whole clinic and the
    import slows down as it goes. Production keeps autovacuum on; this ANALYZEs the tables every
    ANALYZE_EVERY seconds from a second connection, about what autovacuum's analyze does."""
    with psycopg.connect(benchdb.libpq(OWNER_URL), autocommit=True) as conn:
        if conn.execute("SHOW autovacuum").fetchone()[0] == "on":
            yield "autovacuum is on"
            return
        stop = threading.Event()

        def analyze() -> None:
            conn.execute(f"ANALYZE {', '.join(TABLES)}")
            while not stop.wait(ANALYZE_EVERY):
                conn.execute(f"ANALYZE {', '.join(TABLES)}")

        worker = threading.Thread(target=analyze, daemon=True)
        worker.start()
        try:
            yield f"autovacuum is off on this server: ANALYZE every {ANALYZE_EVERY:.0f} s in its place"
        finally:
            stop.set()
            worker.join()


# ------------------------------------------------------------------ clinic

@dataclass
class Person:
    card_no: str
    id_number: str
    name: str
    birth_date: date
    sex: str
    ref: str = "card"      # how the lab names them: card | id | name (the lab's own number, name, birth date)
    z: dict = field(default_factory=dict)  # where the person sits in each test's spread
    drift: float = 0.0


def set_up_clinic(rng: random.Random) -> tuple[int, list[Person]]:
    tenant = create_tenant(SLUG, "Bench records clinic", admin_email=f"owner@{SLUG}.example.cn",
                           admin_password=PASSWORD)
    people = []
    with tenant_context(tenant.id):
        doctor = staff.add_staff(DOCTOR_EMAIL, "医生王", "doctor", PASSWORD)
        codes = {i.code: i for i in catalogue.all_indicators()}
        for loinc, local in LOCAL_CODES.items():
            unit = codes[loinc].unit
            catalogue.map_lab_code("HXLIS", local, codes[loinc].id, unit)
        for code, (zh, en, unit, group, *_rest) in LOCAL_INDICATORS.items():
            catalogue.add_local(code, zh, en, unit, group)
        started = time.perf_counter()
        seen = set()
        while len(people) < PATIENTS:
            data = make_patient(rng)
            if (data.name, data.birth_date) in seen:
                continue  # matching by name and birth date needs them to be unique
            try:
                patient = patients.enrol(data, consent_version=current_app.config["CONSENT_VERSION"])
            except patients.PatientError:  # the same random ID number twice
                continue
            seen.add((data.name, data.birth_date))
            if rng.random() < 0.5:
                patient.responsible_doctor_id = doctor.id
            person = Person(patient.card_no, data.id_number, data.name, data.birth_date, data.sex,
                            drift=rng.uniform(-0.02, 0.04), z={code: rng.gauss(0, 1) for code in TESTS})
            ref = rng.random()
            person.ref = "id" if ref < 0.15 and data.id_number else "name" if ref > 0.9 else "card"
            people.append(person)
            if len(people) % 500 == 0:
                db.session.commit()
        db.session.commit()
        print(f"  {len(people):,} patients enrolled in {time.perf_counter() - started:.1f} s")
    return tenant.id, people


# ------------------------------------------------------------------ messages

def hl7_ts(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S")


def value_of(rng: random.Random, code: str, person: Person, years: int) -> float:
    name, men, women, spread, decimals, ranges, skewed = TESTS[code]
    mean = (men if person.sex == "M" else women) * (1 + person.drift * years)
    deviation = spread * (0.8 * person.z[code] + 0.6 * rng.gauss(0, 1))
    if skewed and deviation > 0:
        deviation *= 1.6  # long upper tails: glucose, triglycerides, enzymes
    return round(max(mean + deviation, mean * 0.3), decimals)


def flag_of(value: float, printed: str) -> str:
    low, high = (None, None)
    if match := re.match(r"^([\d.]+)-([\d.]+)$", printed):
        low, high = float(match[1]), float(match[2])
    elif printed.startswith("<"):
        high = float(printed[1:])
    elif printed.startswith(">"):
        low = float(printed[1:])
    if high is not None and value > high:
        return "HH" if value > 2 * high else "H"
    return "L" if low is not None and value < low else "N"


def pid(person: Person, lab_number: str) -> str:
    ids = {"card": f"{person.card_no}^^^CARELOOP^MR" + (f"~{person.id_number}^^^CHN^NNCHN" if person.id_number else ""),
           "id": f"{person.id_number}^^^CHN^NNCHN", "name": f"{lab_number}^^^LIS^PI"}[person.ref]
    return (f"PID|1||{ids}||{person.name[0]}^{person.name[1:]}||{person.birth_date:%Y%m%d}|{person.sex}|||"
            "建设路18号^^上海^^200000^CHN")


def obx(number: int, code: str, name: str, system: str, value: str, unit: str, printed: str, flag: str,
        status: str, when: datetime) -> str:
    return f"OBX|{number}|NM|{code}^{name}^{system}||{value}|{unit}|{printed}|{flag}|||{status}|||{hl7_ts(when)}"


def obx_rows(rng: random.Random, lab: str, person: Person, tests: list[str], years: int,
             when: datetime) -> list[tuple]:
    """(code, name, system, value text, unit, printed range, flag) per test as ``lab`` sends it."""
    rows = []
    for code in tests:
        name, _men, _women, _spread, decimals, ranges, _skewed = TESTS[code]
        value = value_of(rng, code, person, years)
        printed = ranges[0 if person.sex == "M" else 1]
        flag = flag_of(value, printed) if printed else ""
        unit = UNITS[code]
        text = f"{value:.{decimals}f}"
        if lab == "RJLAB":
            rows.append((code, name, "LN", text, unit, printed, flag))
        elif lab == "HXLIS":  # its own codes, no flags, the unit left out now and then
            rows.append((LOCAL_CODES[code], name, "L", text, "" if rng.random() < 0.3 else unit, printed, ""))
        elif code in US_CODES:
            us_code, us_unit, factor, us_decimals = US_CODES[code]
            us_printed = "-".join(f"{float(x) * factor:.{us_decimals}f}" for x in printed.split("-")) \
                if re.match(r"^[\d.]+-[\d.]+$", printed) else ""
            rows.append((us_code, name, "LN", f"{value * factor:.{us_decimals}f}", us_unit, us_printed, flag))
        else:
            rows.append((code, name, "LN", text, unit, printed, flag))
    return rows


@dataclass
class Plan:
    """What the file holds and what importing it must do."""

    messages: list[str] = field(default_factory=list)
    results: int = 0            # OBX rows in the file
    imported: int = 0           # reports that store something
    stored: int = 0             # observations stored, computed BMI and eGFR included
    duplicates: int = 0         # OBX rows a correction resends unchanged
    unmatched: int = 0
    errors: int = 0
    waiting: int = 0            # OBX rows with a code nobody mapped: they wait, the rest of the report is stored
    matched_obx: int = 0        # OBX rows of reports filed for a patient (all duplicates the second time)
    originals: list[tuple] = field(default_factory=list)  # (person, lab, PID, filler, time, rows) filed ones


def message(control: str, sender: str, person_segment: str, filler: str, when: datetime, rows: list[tuple],
            status: str = "F", corrected: str = "") -> str:
    segments = [f"MSH|^~\\&|LIS|{sender}|CARELOOP|{SLUG}|{hl7_ts(when + timedelta(hours=6))}||ORU^R01^ORU_R01|"
                f"{control}|P|2.5.1|||||||UNICODE UTF-8",
                person_segment,
                f"OBR|1|P{filler}|{filler}|HC^健康体检^L|||{hl7_ts(when)}||||||||||||||||||{'C' if corrected else 'F'}"]
    for number, (code, name, system, text, unit, printed, flag) in enumerate(rows, 1):
        row_status = "C" if code == corrected else status
        segments.append(obx(number, code, name, system, text, unit, printed, flag, row_status, when))
    return "\r".join(segments) + "\r"


def write_messages(rng: random.Random, people: list[Person]) -> Plan:
    """MESSAGES messages: yearly checkups of every patient in turn, then corrections of some of them;
    some for nobody in the clinic and some with a code nobody mapped among them."""
    plan, originals = Plan(), []
    count = MESSAGES - CORRECTIONS
    odd = set(rng.sample(range(count), UNMATCHED + UNMAPPED))
    unmatched = set(list(odd)[:UNMATCHED])
    for n in range(count):
        person, years = people[n % len(people)], n // len(people)
        when = datetime(2020 + years, rng.randint(3, 11), rng.randint(1, 28), 7 + rng.randint(0, 3),
                        rng.randrange(60))
        lab = rng.choices([name for name, _ in LABS], [share for _, share in LABS])[0]
        tests = list(CORE) + rng.sample([c for c in TESTS if c not in CORE], RESULTS_PER_MESSAGE - len(CORE))
        if n in odd and n not in unmatched:
            lab = "HXLIS"
        rows = obx_rows(rng, lab, person, tests, years, when)
        filler = f"{lab[:2]}{n + 1:08d}"
        segment = pid(person, f"L{n:07d}")
        if n in unmatched:
            segment = (f"PID|1||EXT{n:06d}^^^LIS^PI||外^来客{n}||19700101|M")
        elif n in odd:
            rows[-1] = ("NEWTEST", "新项目", "L", "1.0", "", "", "")
        plan.messages.append(message(f"M{n + 1:07d}", lab, segment, filler, when, rows))
        plan.results += len(rows)
        if n in unmatched:
            plan.unmatched += 1
            continue
        known = len(rows) - 1 if n in odd else len(rows)  # the unknown line waits, the rest is stored
        plan.waiting += len(rows) - known
        plan.imported += 1
        adult = clock.age(person.birth_date, when.date()) >= 18
        plan.stored += known + 1 + adult  # BMI from height and weight, eGFR (adults) from creatinine
        plan.matched_obx += known
        if n not in odd:
            originals.append((person, lab, segment, filler, when, rows))
    plan.originals = originals
    for number, (_person, lab, segment, filler, when, rows) in enumerate(rng.sample(originals, CORRECTIONS)):
        code = next(r[0] for r in rows if r[0] not in ("8302-2", "29463-7", "14682-9", "2160-0", "SG", "TZ", "CREA"))
        fixed = [(c, name, system, f"{float(text) * 1.1:.2f}" if c == code else text, unit, printed,
                  "" if c == code else flag) for c, name, system, text, unit, printed, flag in rows]
        plan.messages.append(message(f"C{number + 1:07d}", lab, segment, filler, when, fixed, corrected=code))
        plan.results += len(rows)
        plan.imported += 1
        plan.stored += 1
        plan.duplicates += len(rows) - 1
        plan.matched_obx += len(rows)
    return plan


def trend_messages(rng: random.Random, person: Person) -> list[str]:
    """TREND_YEARS yearly checkups: every pack test plus the clinic's local ones (BMI and eGFR computed)."""
    out = []
    for years in range(TREND_YEARS):
        when = datetime(FIRST_YEAR + years, 5, rng.randint(1, 28), 8, rng.randrange(60))
        rows = obx_rows(rng, "RJLAB", person, list(TESTS), years, when)
        for code, (zh, _en, unit, _group, mean, spread, decimals, printed) in LOCAL_INDICATORS.items():
            value = round(max(mean + rng.gauss(0, spread), mean * 0.2), decimals)
            rows.append((code, zh, "L", f"{value:.{decimals}f}", unit, printed, flag_of(value, printed)))
        out.append(message(f"T{years + 1:04d}", "RJLAB", pid(person, ""), f"TR{years + 1:06d}", when, rows))
    return out


# ------------------------------------------------------------------ import

def count_rows(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def run_import(data: bytes, filename: str, profile: str = "") -> tuple[importer.ImportSummary, float]:
    """As `flask records import FILE` does it: one call, committing every 200 reports."""
    profiler = cProfile.Profile() if profile else None
    started, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    summary = importer.import_file(data, filename, commit_every=200)
    db.session.commit()
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"  {seconds:.1f} s, of which {cpu:.1f} s CPU in this process (load average now "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    return summary, seconds


def print_summary(title: str, summary: importer.ImportSummary, results: int, seconds: float) -> None:
    print(f"{title}: {seconds:.1f} s, {results / seconds:,.0f} results/s; imported {summary.imported:,} reports, "
          f"{summary.results:,} observations stored, {summary.duplicates:,} duplicates, "
          f"{summary.unmatched} unmatched, {len(summary.errors)} errors")


def measure_import(app, tenant_id: int, plan: Plan, path: Path) -> dict:
    data = path.read_bytes()
    with app.app_context(), tenant_context(tenant_id):
        summary, seconds = run_import(data, path.name, PROFILE)
        print_summary("first import", summary, plan.results, seconds)
        for error in summary.errors[:3]:
            print(f"  e.g. {error}")
        stored, alerts = count_rows(Observation), count_rows(Alert)
        expected = (plan.imported, plan.stored, plan.duplicates, plan.unmatched, plan.errors, plan.waiting)
        got = (summary.imported, summary.results, summary.duplicates, summary.unmatched, len(summary.errors),
               summary.waiting)
        if got != expected or stored != plan.stored:
            sys.exit(f"the import did not do what the file asks: (imported, stored, duplicates, unmatched, "
                     f"errors, waiting) {got} != {expected}, {stored:,} observations in the database")
        print(f"  as the file asks; {stored:,} observations, {count_rows(ExamReport):,} reports, {alerts:,} alerts, "
              f"{summary.waiting} results waiting")
        figures = alert_figures(alerts, summary.imported)
        print(f"  alerts: {figures['text']}")
        again, again_seconds = run_import(data, path.name)
        print_summary("same file again", again, plan.results, again_seconds)
        unchanged = (count_rows(Observation), count_rows(Alert)) == (stored, alerts)
        idempotent = unchanged and again.results == 0 and again.imported == 0 \
            and again.duplicates == plan.matched_obx
        print(f"  {'nothing new stored' if idempotent else 'NOT IDEMPOTENT'}: {count_rows(Observation):,} "
              f"observations, {count_rows(Alert):,} alerts; {again.duplicates:,} duplicates")
        if not idempotent:
            sys.exit("the second import stored something or miscounted its duplicates")
    return {"seconds": seconds, "summary": summary, "again": again, "again_seconds": again_seconds,
            "stored": stored, "alerts": alerts, "alert_figures": figures}


def retraction_messages(rng: random.Random, plan: Plan) -> tuple[bytes, int]:
    """RETRACTIONS filed reports each withdraw one of their values (OBX-11 W), as a lab does when a
    result was for the wrong patient; -> (the file, values retracted)."""
    out = []
    for number, (_person, lab, segment, filler, when, rows) in enumerate(rng.sample(plan.originals, RETRACTIONS)):
        code, name, system, text, unit, printed, _flag = next(
            r for r in rows if r[0] not in ("8302-2", "29463-7", "14682-9", "2160-0", "SG", "TZ", "CREA"))
        out.append(message(f"W{number + 1:07d}", lab, segment, filler, when,
                           [(code, name, system, text, unit, printed, "")], status="W"))
    return "".join(out).encode(), RETRACTIONS


def measure_retractions_and_release(app, tenant_id: int, rng: random.Random, plan: Plan) -> dict:
    """The retraction path, then the waiting queue: mapping the code nobody knew stores what waited."""
    data, expected = retraction_messages(rng, plan)
    with app.app_context(), tenant_context(tenant_id):
        current_before = db.session.scalar(select(func.count()).select_from(Observation)
                                           .where(Observation.superseded_by.is_(None)))
        summary, seconds = run_import(data, "retractions.hl7")
        current_after = db.session.scalar(select(func.count()).select_from(Observation)
                                          .where(Observation.superseded_by.is_(None)))
        if summary.retracted != expected or current_before - current_after != expected or summary.errors:
            sys.exit(f"retractions: {summary.retracted} retracted, current values {current_before:,} -> "
                     f"{current_after:,}, errors {summary.errors[:3]}")
        print(f"retractions: {expected} values withdrawn in {seconds:.2f} s ({expected / seconds:,.0f}/s)")
        local = db.session.scalar(select(Indicator).where(Indicator.code == "HSCRP"))
        started = time.perf_counter()
        catalogue.map_lab_code("HXLIS", "NEWTEST", local.id, "mg/L")
        released = importer.release_waiting("HXLIS", "NEWTEST", None)
        db.session.commit()
        release_seconds = time.perf_counter() - started
        if released.results != plan.waiting or released.waiting:
            sys.exit(f"mapping NEWTEST stored {released.results} of {plan.waiting} waiting results, "
                     f"{released.waiting} still wait")
        print(f"waiting results: mapping the unknown code stored {released.results} in {release_seconds:.2f} s")
    return {"retracted": expected, "retract_seconds": seconds, "released": released.results,
            "release_seconds": release_seconds}


def alert_figures(alerts: int, reports: int) -> dict:
    """Alerts per report imported (one alert per patient and report, listing its abnormal items)."""
    items = count_rows(AlertItem)
    critical = db.session.scalar(select(func.count()).select_from(Alert).where(Alert.kind == "critical"))
    most = db.session.scalar(select(func.max(Alert.item_count))) or 0
    per_report = alerts / reports if reports else 0.0
    text = (f"{alerts:,} alerts for {reports:,} reports imported = {per_report:.2f} per report; "
            f"{items:,} abnormal items ({items / alerts if alerts else 0:.1f} per alert, at most {most}); "
            f"{critical:,} critical")
    return {"alerts": alerts, "reports": reports, "per_report": per_report, "items": items, "critical": critical,
            "text": text}


# ------------------------------------------------------------------ trend page

def trend_patient(app, tenant_id: int, rng: random.Random) -> tuple[int, int]:
    """One patient with TREND_YEARS checkups; -> (patient id, indicators with values)."""
    with app.app_context(), tenant_context(tenant_id):
        born = date(1962, 4, 12)
        data = patients.PatientData(name="陈志强", sex="M", birth_date=born, mobile="13912345678",
                                    id_number=make_id_number(rng, born, "M"))
        patient = patients.enrol(data, consent_version=current_app.config["CONSENT_VERSION"])
        db.session.commit()
        person = Person(patient.card_no, data.id_number, data.name, born, "M", drift=0.01,
                        z={code: rng.gauss(0.3, 0.8) for code in TESTS})
        summary = importer.import_file("".join(trend_messages(rng, person)).encode(), "trend.hl7")
        db.session.commit()
        if summary.errors or summary.imported != TREND_YEARS:
            sys.exit(f"trend patient import failed: {summary.as_dict()}")
        indicators = db.session.scalar(select(func.count(func.distinct(Observation.indicator_id)))
                                       .where(Observation.patient_id == patient.id))
        print(f"trend patient {patient.card_no}: {summary.results} observations, {TREND_YEARS} checkups, "
              f"{indicators} indicators")
        return patient.id, indicators


def signed_in_client(app):
    client = app.test_client()
    host = f"http://{SLUG}.localhost"
    page = client.get("/login", base_url=host).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if not token:
        raise RuntimeError("GET /login has no CSRF token")
    response = client.post("/login", base_url=host,
                           data={"email": DOCTOR_EMAIL, "password": PASSWORD, "csrf_token": token.group(1)})
    if response.status_code != 302:
        raise RuntimeError(f"sign-in answered {response.status_code}, not a redirect")
    return client, host


def measure_page(app, patient_id: int, indicators: int) -> dict:
    client, host = signed_in_client(app)
    path, timings = f"/patients/{patient_id}/records", []
    for i in range(PAGE_WARMUP + PAGE_REQUESTS):
        started = time.perf_counter()
        response = client.get(path, base_url=host)
        page = response.get_data(as_text=True)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}")
        if i >= PAGE_WARMUP:
            timings.append(elapsed)
    charts = page.count("<svg ")
    if charts != indicators - 1:  # systolic and diastolic pressure share one chart
        raise RuntimeError(f"the trend page shows {charts} SVG charts for {indicators} indicators")
    cuts = statistics.quantiles(timings, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "max": max(timings), "charts": charts, "kb": len(page) / 1024,
            "verdict": "ok" if cuts[94] < PAGE_TARGET_MS else "MISSED"}


# --------------------------------------------------------------------- main

def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # progress interleaves with Alembic's log on stderr
    print(f"database {make_url(OWNER_URL).database}, Redis {REDIS_URL}: recreating and migrating")
    recreate_database()
    app = make_app()
    rng = random.Random(20260104)
    with app.app_context():
        upgrade()
        print(f"clinic {SLUG!r}: catalogue, lab codes, {PATIENTS:,} patients")
        tenant_id, people = set_up_clinic(rng)
        with tenant_context(tenant_id):
            UNITS.update({i.code: i.unit for i in db.session.scalars(select(Indicator))})

    started = time.perf_counter()
    plan = write_messages(rng, people)
    path = Path(tempfile.gettempdir()) / "careloop-bench-records.hl7"
    path.write_bytes("".join(plan.messages).encode())
    print(f"wrote {len(plan.messages):,} ORU^R01 messages, {plan.results:,} results "
          f"({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s: {path}")

    with keep_statistics() as statistics_note:
        print(statistics_note)
        imports = measure_import(app, tenant_id, plan, path)
        path.unlink()
        paths = measure_retractions_and_release(app, tenant_id, rng, plan)
        patient_id, indicators = trend_patient(app, tenant_id, rng)
        page = measure_page(app, patient_id, indicators)

    rate = plan.results / imports["seconds"]
    summary, again = imports["summary"], imports["again"]
    print("\n==== summary " + "=" * 60)
    print(f"import               {len(plan.messages):,} messages, {plan.results:,} results in "
          f"{imports['seconds']:.1f} s: {rate:,.0f} results/s  {'ok' if rate >= IMPORT_TARGET else 'MISSED'} "
          f"(>= {IMPORT_TARGET:.0f}/s)")
    print(f"  summary            imported {summary.imported:,}, observations {summary.results:,} "
          f"(with computed BMI/eGFR), duplicates {summary.duplicates:,}, unmatched {summary.unmatched}, "
          f"errors {len(summary.errors)}, waiting {summary.waiting}; {imports['alerts']:,} alerts")
    print(f"alerts               {imports['alert_figures']['text']}")
    print(f"re-import            {imports['again_seconds']:.1f} s ({plan.results / imports['again_seconds']:,.0f} "
          f"results/s): imported {again.imported}, new observations {again.results}, "
          f"duplicates {again.duplicates:,}, unmatched {again.unmatched}, errors {len(again.errors)}: "
          "nothing new stored")
    print(f"retraction           {paths['retracted']} values withdrawn (OBX-11 W) in {paths['retract_seconds']:.2f} s")
    print(f"partial import       {plan.waiting} results waited for an unknown code; mapping it stored "
          f"{paths['released']} in {paths['release_seconds']:.2f} s")
    print(f"trend page           {TREND_YEARS} checkups x {indicators} indicators, {PAGE_REQUESTS} requests: "
          f"p50 {page['p50']:.1f} ms  p95 {page['p95']:.1f} ms  max {page['max']:.1f} ms  {page['verdict']} "
          f"(p95 < {PAGE_TARGET_MS:.0f} ms); 200, {page['charts']} SVG charts, {page['kb']:.0f} KB")


if __name__ == "__main__":
    main()
