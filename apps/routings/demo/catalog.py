"""The demo shop's fixed data: its departments, machines and calendars, the materials it buys,
its customers, and the part families it makes with their routing templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from apps.machines.choices import Weekday
from apps.routings.choices import GrainDirection

# --- The plant: departments, machines, calendars ------------------------------------------------

DEPARTMENTS = (
    ("laser", "Laser cutting"),
    ("punch", "Punching"),
    ("forming", "Forming (press brakes)"),
    ("weld", "Welding"),
    ("finish", "Polish & finish"),
    ("assembly", "Assembly"),
    ("shipping", "Shipping"),
)

# code, name, department, description
WORK_CENTER_TYPES = (
    ("fiber-laser", "Fiber laser", "laser", "4–6 kW fiber lasers with 5×10 ft beds."),
    ("turret-punch", "CNC turret punch", "punch", "Turret punches for door skins, shelving and cabinet panels."),
    ("press-brake-large", "Press brake over 100 t", "forming", "Long, heavy bends: table tops, hood canopies, frames."),
    ("press-brake-small", "Press brake up to 100 t", "forming", "Brackets, reinforcements, shelves and small boxes."),
    ("panel-bender", "Panel bender", "forming", "Automatic bending of door skins and cabinet panels."),
    ("tig-weld", "TIG weld cell", "weld", "Manual TIG on stainless: sinks, tables, hoods."),
    ("mig-robot", "Robotic MIG cell", "weld", "Fixtured robot welding of doors and frames."),
    ("spot-weld", "Spot welder", "weld", "Resistance spot welding of shelves, louvers, reinforcements."),
    ("grain-polish", "Grainer / polishing", "finish", "#4 grain finish and weld blending on stainless."),
    ("deburr", "Deburr and edge rounding", "finish", "Dross and burr removal after cutting."),
    ("paint-booth", "Paint and powder booth", "finish", "Prime paint on doors and frames, powder coat."),
    ("assembly-bench", "Assembly bench", "assembly", "Fitting legs, hardware, doors and accessories."),
    ("shipping", "Shipping dock", "shipping", "Crating, labelling and loading."),
)

LASER_CALENDAR = "Lasers with Saturday"
PLANT_CALENDAR = "Two shifts Mon–Fri"


@dataclass(frozen=True)
class WorkCenterDef:
    code: str
    name: str
    type: str
    efficiency: str
    setup_category: str
    hourly_rate: str
    bottleneck: bool = False
    iot_device_id: str = ""
    sigmanest_machine_id: str = ""
    calendar: str = ""


_W = WorkCenterDef
WORK_CENTERS = (
    _W("LAS-01", "Trumpf TruLaser 3030 fiber 6 kW", "fiber-laser", "1.10", "fiber-laser", "185", True, "laser-01",
       "TL3030-6KW", LASER_CALENDAR),
    _W("LAS-02", "Bystronic ByStar Fiber 3015 4 kW", "fiber-laser", "1.00", "fiber-laser", "175", True, "laser-02",
       "BSF3015-4KW", LASER_CALENDAR),
    _W("PUN-01", "Amada EM-2510NT turret", "turret-punch", "1.00", "turret", "140", False, "punch-01", "EM2510NT"),
    _W("PUN-02", "Trumpf TruPunch 5000", "turret-punch", "1.10", "turret", "150", False, "punch-02", "TP5000"),
    _W("BRK-01", "Amada HG-1303 press brake 130 t", "press-brake-large", "1.05", "brake-tooling", "120", False,
       "brake-01"),
    _W("BRK-02", "Trumpf TruBend 5130 press brake 130 t", "press-brake-large", "1.10", "brake-tooling", "125", False,
       "brake-02"),
    _W("BRK-03", "Cincinnati 230 t × 14 ft press brake", "press-brake-large", "0.90", "brake-tooling", "115", False,
       "brake-03"),
    _W("BRK-04", "Amada HFE-1003 press brake 100 t", "press-brake-small", "1.00", "brake-tooling", "105", False,
       "brake-04"),
    _W("BRK-05", "Accurpress 7606 press brake 60 t", "press-brake-small", "0.95", "brake-tooling", "95", False,
       "brake-05"),
    _W("BRK-06", "Trumpf TruBend 7036 press brake 36 t", "press-brake-small", "1.15", "brake-tooling", "100", False,
       "brake-06"),
    _W("PNB-01", "Salvagnini P4lean panel bender", "panel-bender", "1.15", "panel-bender", "150", False,
       "panelbender-01"),
    _W("WLD-01", "TIG cell 1", "tig-weld", "1.00", "tig", "85"),
    _W("WLD-02", "TIG cell 2", "tig-weld", "0.95", "tig", "85"),
    _W("WLD-03", "TIG cell 3", "tig-weld", "1.05", "tig", "85"),
    _W("WLD-04", "TIG cell 4", "tig-weld", "0.90", "tig", "80"),
    _W("ROB-01", "Fanuc ARC Mate robotic MIG cell", "mig-robot", "1.10", "robot-fixture", "110", False, "robot-01"),
    _W("SPT-01", "Taylor-Winfield spot welder 75 kVA", "spot-weld", "1.00", "spot", "70"),
    _W("SPT-02", "Miller press-type spot welder 30 kVA", "spot-weld", "0.90", "spot", "65"),
    _W("POL-01", "Timesaver 42 in grainer", "grain-polish", "1.05", "grain", "75", False, "grainer-01"),
    _W("POL-02", "Hand polishing station", "grain-polish", "0.85", "grain", "65"),
    _W("POL-03", "Weld blending station", "grain-polish", "0.90", "grain", "65"),
    _W("DBR-01", "Fladder deburr and edge rounding", "deburr", "1.10", "deburr", "70"),
    _W("DBR-02", "Timesaver 1100 deburr", "deburr", "1.00", "deburr", "70"),
    _W("PNT-01", "Prime paint and powder booth", "paint-booth", "1.00", "paint-colour", "90"),
    _W("ASM-01", "Assembly bench 1", "assembly-bench", "1.00", "", "65"),
    _W("ASM-02", "Assembly bench 2", "assembly-bench", "0.95", "", "65"),
    _W("ASM-03", "Assembly bench 3", "assembly-bench", "1.05", "", "65"),
    _W("ASM-04", "Door and frame assembly", "assembly-bench", "1.00", "", "65"),
    _W("SHP-01", "Shipping dock", "shipping", "1.00", "", "55"),
    _W("SHP-02", "Crating and shipping", "shipping", "1.00", "", "55"),
)  # fmt: skip

MAINTENANCE = ("BRK-02", "Hydraulic service and backgauge calibration")

# name, start, end, breaks — the plant's two shifts, Monday to Friday.
_ShiftDef = tuple[str, time, time, tuple[tuple[time, time], ...]]
PLANT_SHIFTS: tuple[_ShiftDef, ...] = (
    ("1st shift", time(6), time(14, 30), ((time(10), time(10, 30)),)),
    ("2nd shift", time(14, 30), time(23), ((time(18, 30), time(19)),)),
)
SATURDAY_SHIFT: _ShiftDef = ("Saturday overtime", time(6), time(12), ())
WEEKDAYS = (Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY)
CALENDARS: tuple[tuple[str, str, bool, tuple[tuple[int, _ShiftDef], ...]], ...] = (
    (
        PLANT_CALENDAR,
        "1st shift 06:00–14:30, 2nd shift 14:30–23:00, half-hour unpaid break in each.",
        True,
        tuple((day, shift) for day in WEEKDAYS for shift in PLANT_SHIFTS),
    ),
    (
        LASER_CALENDAR,
        "The plant's two shifts plus Saturday morning overtime on the lasers, the bottleneck.",
        False,
        (*((day, shift) for day in WEEKDAYS for shift in PLANT_SHIFTS), (Weekday.SATURDAY, SATURDAY_SHIFT)),
    ),
)

# --- What the shop buys and who it sells to -----------------------------------------------------

_SHEET_48 = ("1219.2", "3048.0")
_SHEET_60 = ("1524.0", "3048.0")
# code, description, grade, thickness (mm), sheet
MATERIALS = (
    ("SS304-18-4", "18 ga 304 #4 stainless 48×120", "304 #4", "1.270", _SHEET_48),
    ("SS304-16-4", "16 ga 304 #4 stainless 48×120", "304 #4", "1.588", _SHEET_48),
    ("SS304-16-4-60", "16 ga 304 #4 stainless 60×120", "304 #4", "1.588", _SHEET_60),
    ("SS304-14-4", "14 ga 304 #4 stainless 48×120", "304 #4", "1.984", _SHEET_48),
    ("SS304-14-4-60", "14 ga 304 #4 stainless 60×120", "304 #4", "1.984", _SHEET_60),
    ("SS304-12-2B", "12 ga 304 2B stainless 48×120", "304 2B", "2.778", _SHEET_48),
    ("SS430-18-4", "18 ga 430 #4 stainless 48×120", "430 #4", "1.270", _SHEET_48),
    ("SS430-16-4", "16 ga 430 #4 stainless 48×120", "430 #4", "1.588", _SHEET_48),
    ("CRS-16", "16 ga cold-rolled steel 48×120", "CRS", "1.519", _SHEET_48),
    ("CRS-14", "14 ga cold-rolled steel 48×120", "CRS", "1.897", _SHEET_48),
    ("HRPO-11", "11 ga hot-rolled pickled & oiled 48×120", "HRPO", "3.038", _SHEET_48),
    ("HRPO-7", "7 ga hot-rolled pickled & oiled 60×120", "HRPO", "4.554", _SHEET_60),
    ("GALV-18", "18 ga galvanneal A60 48×120", "Galvanneal A60", "1.311", _SHEET_48),
    ("GALV-16", "16 ga galvanneal A60 48×120", "Galvanneal A60", "1.613", _SHEET_48),
    ("GALV-14", "14 ga galvanneal A60 48×120", "Galvanneal A60", "1.994", _SHEET_48),
    ("AL5052-080", "0.080 in aluminium 5052-H32 48×120", "5052-H32", "2.032", _SHEET_48),
    ("AL5052-125", "0.125 in aluminium 5052-H32 48×120", "5052-H32", "3.175", _SHEET_48),
)

# Who buys what: each segment orders from these markets (families below say their market).
SEGMENT_MARKETS = {
    "dealer": ("kitchen",),
    "restaurant": ("kitchen",),
    "contractor": ("doors",),
    "institution": ("kitchen", "doors"),
    "internal": ("stock",),
}
SEGMENT_WEIGHTS = {"dealer": 34, "restaurant": 14, "contractor": 32, "institution": 13, "internal": 7}

# code, name, segment, area code
CUSTOMERS = (
    ("HARBORFS", "Harbor Foodservice Supply", "dealer", "504"),
    ("MIDWESTRE", "Midwest Restaurant Equipment Co.", "dealer", "312"),
    ("PRAIRIEKIT", "Prairie Kitchen Outfitters", "dealer", "402"),
    ("GULFCOAST", "Gulf Coast Food Equipment", "dealer", "713"),
    ("TRISTATE", "Tri-State Restaurant Supply", "dealer", "513"),
    ("LONESTAR", "Lone Star Kitchen Systems", "dealer", "214"),
    ("NORTHSTAR", "Northstar Foodservice Design", "dealer", "612"),
    ("BAYOU", "Bayou Commercial Kitchens", "dealer", "225"),
    ("COPPERPOT", "Copper Pot Equipment & Design", "dealer", "314"),
    ("SUMMITFS", "Summit Foodservice Group", "dealer", "303"),
    ("RIVERBEND", "Riverbend Restaurant Equipment", "dealer", "563"),
    ("OZARK", "Ozark Kitchen & Bar Supply", "dealer", "417"),
    ("KEYSTONEDH", "Keystone Door & Hardware", "contractor", "412"),
    ("IRONGATE", "Iron Gate Builders", "contractor", "816"),
    ("MERIDIAN", "Meridian Construction Group", "contractor", "317"),
    ("BLUESTEM", "Bluestem General Contractors", "contractor", "785"),
    ("CORNERSTONE", "Cornerstone Door Supply", "contractor", "615"),
    ("PIONEERDF", "Pioneer Doors & Frames", "contractor", "405"),
    ("SILVERLINE", "Silverline Commercial Interiors", "contractor", "414"),
    ("ANCHORBLD", "Anchor Build Partners", "contractor", "901"),
    ("REDOAK", "Red Oak Contracting", "contractor", "319"),
    ("GRANITECITY", "Granite City Door Co.", "contractor", "618"),
    ("STBRENDAN", "St. Brendan Medical Center", "institution", "608"),
    ("MERCYVALE", "Mercy Vale Regional Hospital", "institution", "515"),
    ("LAKEVIEWUSD", "Lakeview Unified School District", "institution", "920"),
    ("CEDARHILLS", "Cedar Hills Community College", "institution", "479"),
    ("PRAIRIESTATE", "Prairie State University Facilities", "institution", "309"),
    ("HARLANCO", "Harlan County Detention Center", "institution", "606"),
    ("RIVERSIDEVA", "Riverside Veterans Hospital", "institution", "501"),
    ("FAIRVIEWISD", "Fairview Independent School District", "institution", "830"),
    ("BIGTIMBER", "Big Timber Smokehouse Group", "restaurant", "406"),
    ("GRANDPLAZA", "Grand Plaza Hotel", "restaurant", "816"),
    ("FRESHWAY", "Freshway Markets", "restaurant", "262"),
    ("HOPYARD", "Hop Yard Brewing Co.", "restaurant", "541"),
    ("CAMPUSDINE", "Campus Dining Partners", "restaurant", "734"),
    ("SUNRISECAT", "Sunrise Catering & Events", "restaurant", "480"),
    ("BLUEPLATE", "Blue Plate Diners", "restaurant", "316"),
    ("METROCOMM", "Metro Commissary Kitchens", "restaurant", "773"),
    ("RIVERFRONT", "Riverfront Stadium Concessions", "restaurant", "513"),
    ("STOCK", "Stock replenishment (internal)", "internal", "630"),
)

HOLD_REASONS = (
    "Waiting on customer approval of the revised drawing",
    "Material short: 14 ga 304 #4 60×120 on order",
    "Customer changed the hardware preps",
    "Credit hold (accounting)",
    "Waiting on field dimensions from the site",
    "Engineering change pending",
)

# --- Parts and their routings -------------------------------------------------------------------


@dataclass(frozen=True)
class StepDef:
    """A routing step template; minutes are for the family's reference size (size 1.0)."""

    sequence: int
    code: str
    description: str
    type: str
    setup: int
    run: float
    after: tuple[int, ...] = ()
    long_work_center: str = ""  # preferred for long variants (a 14 ft brake for 12 ft tops)


@dataclass(frozen=True)
class Variant:
    suffix: str
    description: str
    material: str
    size: float = 1.0
    long: bool = False
    skip: tuple[int, ...] = ()  # template steps this variant does not need


@dataclass(frozen=True)
class Family:
    prefix: str
    market: str
    weight: int
    quantity: tuple[int, int, int]  # lowest, highest, multiple of
    grain: str
    custom_share: float  # share of part numbers made to one customer's drawing
    steps: tuple[StepDef, ...]
    variants: tuple[Variant, ...]


_S = StepDef
_GRAIN = GrainDirection.ALONG_LENGTH
_NO_GRAIN = GrainDirection.NONE

_TABLE_SIZES = ((24, 48), (24, 60), (30, 48), (30, 60), (30, 72), (30, 96), (36, 72), (36, 96), (30, 120), (36, 120))
_DOOR_SIZES = (("3070", "3'0\"×7'0\""), ("3080", "3'0\"×8'0\""), ("3670", "3'6\"×7'0\""), ("3680", "3'6\"×8'0\""),
               ("4070", "4'0\"×7'0\""))  # fmt: skip
_FRAME_SIZES = (("3070", "3'0\"×7'0\" single"), ("3670", "3'6\"×7'0\" single"), ("6070", "6'0\"×7'0\" pair"),
                ("6080", "6'0\"×8'0\" pair"))  # fmt: skip

FAMILIES = (
    Family("WT", "kitchen", 22, (1, 20, 1), _GRAIN, 0.2, (
        _S(10, "CUT", "Cut top, undershelf and gussets", "fiber-laser", 20, 13.5),
        _S(20, "DEBURR", "Deburr blanks", "deburr", 10, 3),
        _S(30, "FORM", "Form top edges, backsplash and undershelf", "press-brake-large", 30, 12,
           long_work_center="BRK-03"),
        _S(40, "WELD", "Weld corners and gussets", "tig-weld", 20, 24),
        _S(50, "GRAIN", "Blend welds and grain", "grain-polish", 15, 14),
        _S(60, "ASSY", "Fit legs, undershelf and bullet feet", "assembly-bench", 15, 16),
        _S(70, "SHIP", "Crate and ship", "shipping", 10, 5),
    ), tuple(
        Variant(f"{d}{w}{'-BS' if splash else ''}",
                f"Work table {d}×{w} in, 14 ga 304 top{', 4 in backsplash' if splash else ''}",
                "SS304-14-4-60" if d > 30 else "SS304-14-4", d * w / 2160, long=w >= 120)
        for d, w in _TABLE_SIZES for splash in (False, True) if not splash or d == 30
    )),
    Family("SNK", "kitchen", 12, (1, 12, 1), _GRAIN, 0.25, (
        _S(10, "CUT", "Cut bowls, deck and drainboards", "fiber-laser", 20, 19),
        _S(20, "FORM-BOWL", "Form bowls", "press-brake-large", 30, 16),
        _S(30, "FORM-DRAIN", "Form drainboards and rolled edges", "press-brake-small", 25, 8, after=(10,)),
        _S(40, "WELD", "Weld bowls into deck, add drainboards", "tig-weld", 30, 25, after=(20, 30)),
        _S(50, "GRAIN", "Blend welds and grain", "grain-polish", 20, 16),
        _S(60, "ASSY", "Legs, faucet deck and drains", "assembly-bench", 15, 14),
        _S(70, "SHIP", "Crate and ship", "shipping", 10, 6),
    ), tuple(
        Variant(f"{n}C-{b}D", f"{n}-compartment sink, {b or 'no'} drainboard{'s' if b != 1 else ''}, 14 ga 304",
                "SS304-14-4-60", (n + b) / 3)
        for n in (1, 2, 3) for b in (0, 1, 2)
    )),
    Family("HS", "kitchen", 6, (4, 40, 2), _GRAIN, 0.0, (
        _S(10, "CUT", "Cut bowl and splash", "fiber-laser", 15, 5.5),
        _S(20, "FORM", "Form bowl and splash", "press-brake-small", 20, 5),
        _S(30, "WELD", "Weld bowl seams", "tig-weld", 15, 14),
        _S(40, "GRAIN", "Blend and grain", "grain-polish", 10, 7),
        _S(50, "SHIP", "Box and ship", "shipping", 10, 2),
    ), (
        Variant("14", "Wall hand sink 14 in, 16 ga 304", "SS304-16-4", 0.8),
        Variant("17", "Wall hand sink 17 in, 16 ga 304", "SS304-16-4"),
        Variant("17-KV", "Wall hand sink 17 in with knee valve, 16 ga 304", "SS304-16-4", 1.2),
        Variant("17-SS", "Wall hand sink 17 in with side splashes, 16 ga 304", "SS304-16-4", 1.3),
    )),
    Family("HD", "kitchen", 9, (1, 8, 1), _GRAIN, 0.4, (
        _S(10, "CUT", "Cut canopy, plenum and filter rack", "fiber-laser", 20, 16),
        _S(20, "FORM", "Form canopy and plenum", "press-brake-large", 35, 14, long_work_center="BRK-03"),
        _S(30, "WELD", "Weld liquid-tight seams", "tig-weld", 25, 22),
        _S(40, "GRAIN", "Blend and grain", "grain-polish", 15, 12),
        _S(50, "ASSY", "Fit filters, grease trough and lights", "assembly-bench", 20, 18),
        _S(60, "SHIP", "Crate and ship", "shipping", 15, 6),
    ), tuple(
        Variant(f"{kind}{length}", f"{name} exhaust hood {length} in, 18 ga 430", "SS430-18-4", length / 96,
                long=length >= 120)
        for kind, name in (("W", "Wall canopy"), ("I", "Island canopy")) for length in (48, 72, 96, 120, 144)
    )),
    Family("WS", "kitchen", 8, (6, 60, 6), _GRAIN, 0.0, (
        _S(10, "PUNCH", "Punch shelf and brackets", "turret-punch", 15, 2.5),
        _S(20, "FORM", "Form shelf edges and brackets", "press-brake-small", 15, 3),
        _S(30, "SPOT", "Spot weld brackets to shelf", "spot-weld", 10, 2.5),
        _S(40, "SHIP", "Box and ship", "shipping", 10, 1),
    ), tuple(
        Variant(f"{d}{w}", f"Wall shelf {d}×{w} in, 16 ga 430", "SS430-16-4", d * w / 720)
        for d in (12, 15) for w in (36, 48, 60, 72, 96)
    )),
    Family("CAB", "kitchen", 6, (2, 15, 1), _GRAIN, 0.3, (
        _S(10, "PUNCH", "Punch body, doors and shelves", "turret-punch", 20, 6),
        _S(20, "FORM", "Form body and doors", "panel-bender", 25, 8),
        _S(30, "SPOT", "Spot weld stiffeners", "spot-weld", 15, 6),
        _S(40, "WELD", "Weld corners", "tig-weld", 20, 15),
        _S(50, "GRAIN", "Blend and grain", "grain-polish", 15, 10),
        _S(60, "ASSY", "Hang doors, tracks and shelves", "assembly-bench", 20, 22),
        _S(70, "SHIP", "Crate and ship", "shipping", 10, 5),
    ), (
        *(Variant(f"B{w}", f"Base cabinet {w} in, sliding doors, 18 ga 304", "SS304-18-4", w / 60)
          for w in (48, 60, 72)),
        *(Variant(f"W{w}", f"Wall cabinet {w} in, hinged doors, 18 ga 304", "SS304-18-4", w / 80)
          for w in (36, 48, 60)),
    )),
    Family("DT", "kitchen", 5, (1, 6, 1), _GRAIN, 0.5, (
        _S(10, "CUT", "Cut top and rack guides", "fiber-laser", 20, 16),
        _S(20, "FORM", "Form rolled rims and splash", "press-brake-large", 30, 15, long_work_center="BRK-03"),
        _S(30, "WELD", "Weld sink pocket and corners", "tig-weld", 25, 24),
        _S(40, "GRAIN", "Blend and grain", "grain-polish", 15, 14),
        _S(50, "ASSY", "Legs and crossrails", "assembly-bench", 15, 12),
        _S(60, "SHIP", "Crate and ship", "shipping", 10, 5),
    ), (
        Variant("C60", "Clean dish table 60 in, 14 ga 304", "SS304-14-4-60", 0.8),
        Variant("C96", "Clean dish table 96 in, 14 ga 304", "SS304-14-4-60", 1.2),
        Variant("S60", "Soiled dish table 60 in with pre-rinse sink, 14 ga 304", "SS304-14-4-60", 1.0),
        Variant("S96", "Soiled dish table 96 in with pre-rinse sink, 14 ga 304", "SS304-14-4-60", 1.4),
        Variant("S120", "Soiled dish table 120 in, L-shaped, 14 ga 304", "SS304-14-4-60", 1.8, long=True),
        Variant("C120", "Clean dish table 120 in, L-shaped, 14 ga 304", "SS304-14-4-60", 1.6, long=True),
    )),
    Family("KB", "kitchen", 4, (50, 200, 25), _NO_GRAIN, 0.25, (
        _S(10, "CUT", "Cut blanks", "fiber-laser", 15, 1.6),
        _S(20, "DEBURR", "Deburr", "deburr", 10, 0.6),
        _S(30, "FORM", "Form", "press-brake-small", 15, 0.8),
        _S(40, "SHIP", "Count, bag and ship", "shipping", 10, 0.5),
    ), (
        Variant("LG", "Leg gusset 1-5/8 in, 14 ga 304", "SS304-14-4", 1.0),
        Variant("SB", "Sink bracket, 12 ga 304", "SS304-12-2B", 1.2),
        Variant("SH12", "Shelf bracket 12 in, 16 ga 304", "SS304-16-4", 1.0),
        Variant("SH15", "Shelf bracket 15 in, 16 ga 304", "SS304-16-4", 1.1),
        Variant("HH", "Hood hanger bracket, 11 ga HRPO", "HRPO-11", 1.3),
        Variant("HH7", "Hood hanger bracket, heavy, 7 ga HRPO", "HRPO-7", 1.6),
        Variant("CR", "Undershelf crossrail clip, 16 ga 304", "SS304-16-4", 0.8),
        Variant("LP", "Table leg plate, 12 ga 304", "SS304-12-2B", 1.0, skip=(30,)),
    )),
    Family("PNL", "kitchen", 4, (5, 50, 5), _GRAIN, 0.3, (
        _S(10, "CUT", "Cut panel", "fiber-laser", 10, 7),
        _S(20, "FORM", "Form returns", "press-brake-large", 20, 3),
        _S(30, "SHIP", "Film, crate and ship", "shipping", 10, 1.5),
    ), (
        Variant("WC4896", "Wall cladding panel 48×96 in, 18 ga 430", "SS430-18-4", 1.0),
        Variant("WC48120", "Wall cladding panel 48×120 in, 18 ga 430", "SS430-18-4", 1.2, long=True),
        Variant("CG96", "Corner guard 2×2×96 in, 16 ga 304", "SS304-16-4", 0.6),
        Variant("FP1236", "Filler panel 12×36 in, 18 ga 304", "SS304-18-4", 0.5),
        Variant("EP3030", "End panel 30×30 in, 18 ga 304", "SS304-18-4", 0.6),
        Variant("BG", "Bumper guard 6×96 in, 16 ga 304", "SS304-16-4", 0.7),
    )),
    Family("SHF", "kitchen", 4, (2, 20, 1), _GRAIN, 0.0, (
        _S(10, "PUNCH", "Punch shelves and posts", "turret-punch", 20, 5),
        _S(20, "FORM", "Form shelves and posts", "press-brake-small", 20, 6),
        _S(30, "SPOT", "Spot weld shelf stiffeners", "spot-weld", 10, 3),
        _S(40, "ASSY", "Assemble unit", "assembly-bench", 10, 8),
        _S(50, "SHIP", "Box and ship", "shipping", 10, 1.5),
    ), tuple(
        Variant(f"{d}{w}", f"Four-tier shelving {d}×{w} in, 18 ga 430", "SS430-18-4", d * w / 864)
        for d, w in ((18, 36), (18, 48), (24, 48), (24, 60))
    )),
    Family("HMD", "doors", 26, (10, 60, 5), _NO_GRAIN, 0.15, (
        _S(10, "PUNCH", "Punch skins, hinge and lock preps", "turret-punch", 20, 6),
        _S(20, "FORM-SKIN", "Form skin edges", "panel-bender", 15, 5),
        _S(30, "FORM-REINF", "Form reinforcements and end channels", "press-brake-small", 20, 3, after=(10,)),
        _S(40, "SPOT", "Spot weld reinforcements", "spot-weld", 10, 4),
        _S(50, "WELD", "Weld skins and seams, fill core", "mig-robot", 25, 7, after=(20, 40)),
        _S(60, "PAINT", "Prime paint", "paint-booth", 30, 1.5),
        _S(70, "SHIP", "Band, label and ship", "shipping", 10, 2),
    ), tuple(
        Variant(f"{size}-{lite}-{ga}",
                f"Hollow metal door {label}, {'flush' if lite == 'F' else 'half-glass lite'}, {ga} ga galvanneal",
                f"GALV-{ga}", 1.0 + (0.15 if lite == "G" else 0) + (0.1 if ga == 16 else 0))
        for size, label in _DOOR_SIZES for lite in ("F", "G") for ga in (18, 16)
    )),
    Family("HMF", "doors", 22, (10, 80, 5), _NO_GRAIN, 0.15, (
        _S(10, "CUT", "Cut jambs and head with hinge and strike preps", "fiber-laser", 20, 5.5),
        _S(20, "FORM", "Brake jambs and head", "press-brake-large", 25, 6),
        _S(30, "SPOT", "Attach anchors and mortar guards", "spot-weld", 10, 3),
        _S(40, "WELD", "Weld and grind corners", "tig-weld", 20, 14),
        _S(50, "PAINT", "Prime paint", "paint-booth", 30, 1.2),
        _S(60, "SHIP", "Band, label and ship", "shipping", 10, 1.5),
    ), tuple(
        Variant(f"{size}-{ga}-{kind}", f"Frame {label}, {ga} ga galvanneal, {name}", f"GALV-{ga}",
                1.6 if size.startswith("6") else 1.0, skip=(40,) if kind == "KD" else ())
        for size, label in _FRAME_SIZES for ga in (16, 14) for kind, name in (("W", "welded"), ("KD", "knock-down"))
        if ga == 16 or kind == "W"
    )),
    Family("LV", "doors", 7, (20, 100, 10), _NO_GRAIN, 0.0, (
        _S(10, "CUT", "Cut frame and blades", "fiber-laser", 15, 4),
        _S(20, "FORM", "Form blades and frame", "press-brake-small", 25, 6),
        _S(30, "SPOT", "Spot blades into frame", "spot-weld", 15, 4),
        _S(40, "PAINT", "Prime paint", "paint-booth", 30, 1),
        _S(50, "SHIP", "Box and ship", "shipping", 10, 0.5),
    ), tuple(
        Variant(f"{w}{h}-{kind}", f"Door louver {w}×{h} in, {name}, 16 ga CRS", "CRS-16", w * h / 324)
        for w, h in ((12, 12), (18, 18), (24, 12), (24, 24))
        for kind, name in (("SP", "sight-proof"), ("FL", "fire-rated, fusible link"))
    )),
    Family("DR", "stock", 1, (100, 200, 25), _NO_GRAIN, 0.0, (
        _S(10, "CUT", "Cut blanks", "fiber-laser", 15, 1.4),
        _S(20, "DEBURR", "Deburr", "deburr", 10, 0.5),
        _S(30, "FORM", "Form", "press-brake-small", 15, 0.7),
        _S(40, "SHIP", "Count and move to door line", "shipping", 10, 0.5),
    ), (
        Variant("HINGE", "Hinge reinforcement, 7 ga HRPO", "HRPO-7", 1.2),
        Variant("CLOSER", "Closer reinforcement, 12 ga", "HRPO-11", 1.0),
        Variant("LOCK", "Lock box, 16 ga CRS", "CRS-16", 1.4),
        Variant("STRIKE", "Strike reinforcement, 12 ga", "HRPO-11", 1.0),
        Variant("MORTAR", "Mortar guard, 18 ga galvanneal", "GALV-18", 0.8),
        Variant("ANCHOR", "Wall anchor, 16 ga galvanneal", "GALV-16", 0.8),
        Variant("BASE", "Base anchor, 14 ga galvanneal", "GALV-14", 0.9, skip=(20,)),
        Variant("ASTRAGAL", "Astragal 84 in, 14 ga CRS", "CRS-14", 2.0),
    )),
    Family("KP", "doors", 4, (20, 100, 10), _GRAIN, 0.0, (
        _S(10, "CUT", "Cut plate", "fiber-laser", 15, 2.5),
        _S(20, "DEBURR", "Deburr edges", "deburr", 10, 1),
        _S(30, "GRAIN", "Brush finish", "grain-polish", 15, 3),
        _S(40, "SHIP", "Film, box and ship", "shipping", 10, 0.5),
    ), (
        Variant("1034", "Kick plate 10×34 in, 0.080 aluminium", "AL5052-080", 1.0),
        Variant("1036", "Kick plate 10×36 in, 0.080 aluminium", "AL5052-080", 1.0),
        Variant("3634", "Armour plate 36×34 in, 0.125 aluminium", "AL5052-125", 2.0),
        Variant("AP12", "Access panel 12×12 in, hinged, 0.080 aluminium", "AL5052-080", 0.8),
        Variant("AP24", "Access panel 24×24 in, hinged, 0.125 aluminium", "AL5052-125", 1.2),
        Variant("SIGN", "Sign back plate 18×24 in, 0.080 aluminium", "AL5052-080", 0.9, skip=(30,)),
    )),
    Family("VL", "doors", 5, (20, 80, 10), _NO_GRAIN, 0.0, (
        _S(10, "CUT", "Cut lite kit stops", "fiber-laser", 15, 2.5),
        _S(20, "FORM", "Form stops", "press-brake-small", 15, 2),
        _S(30, "PAINT", "Prime paint", "paint-booth", 25, 0.8),
        _S(40, "SHIP", "Box and ship", "shipping", 10, 0.5),
    ), (
        Variant("1010", "Vision lite kit 10×10 in, 18 ga galvanneal", "GALV-18", 0.8),
        Variant("0520", "Narrow lite kit 5×20 in, 18 ga galvanneal", "GALV-18", 0.8),
        Variant("2430", "Half-glass lite kit 24×30 in, 18 ga galvanneal", "GALV-18", 1.3),
        Variant("0425", "Narrow lite kit 4×25 in, 18 ga galvanneal", "GALV-18", 0.8),
    )),
)  # fmt: skip
