"""The demo product catalogue: hand-written hardware-store products, deterministic per seed.

Semantic product search is only meaningful if products read like a real store's: each template
below names a product the way a shelf label does and describes, in plain language, what it is
FOR ("cuts through branches up to 3/4 inch"), so a question such as "something to cut branches"
finds pruning shears. Templates expand into variants (sizes, packs) to form the curated set of
about 400 products; larger catalogues (`--products N`, up to 100k+) add brand x series x model
variants of the same templates, whose descriptions stay truthful to what the product does and
are each the product's own: the first sentence (what search embeds) adds a look or origin, the
product line, who buys it and how it stands in the range, so 100k products have 100k texts
rather than a few hundred copies (which a vector index handles badly, see sql/007).

Everything is pure and deterministic for (seed, count): a `random.Random(seed)` instance picks
brands and jitters prices; nothing reads the clock or global random state.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal

from adapters.demodata.reference import CATEGORIES

CURATED_COUNT_HINT = 400  # the default catalogue size; see build_catalogue

# Quantity profiles: how many units a typical order line of this product type carries.
QUANTITY_PROFILES: tuple[str, ...] = ("single", "few", "consumable", "bulk")


@dataclass(frozen=True)
class CatalogueProduct:
    """One product of the catalogue. Money is kept in integer cents so totals stay exact."""

    sku: str
    name: str
    description: str
    category: str
    product_type: str
    cost_cents: int
    price_cents: int
    popularity: float  # relative sales weight within its category (best sellers are high)
    quantity_profile: str  # one of QUANTITY_PROFILES

    @property
    def cost(self) -> Decimal:
        return Decimal(self.cost_cents).scaleb(-2)

    @property
    def base_price(self) -> Decimal:
        return Decimal(self.price_cents).scaleb(-2)


@dataclass(frozen=True)
class _Template:
    name: str  # may contain {brand} and {v}
    price: float  # dollars, for a variant with multiplier 1.0
    variants: tuple[tuple[str, float], ...]  # (label, price multiplier)
    description: str  # may contain {v}


@dataclass(frozen=True)
class _Type:
    category: str
    code: str
    name: str
    popularity: float  # relative sales weight of the type inside its category
    quantity: str
    margin: tuple[float, float]  # gross margin range of the type
    templates: tuple[_Template, ...]


def _t(name: str, price: float, variants: str, description: str) -> _Template:
    """Template shorthand: variants as 'label=multiplier; label=multiplier' ('' = one variant)."""
    parsed: list[tuple[str, float]] = []
    for part in variants.split(";"):
        if not part.strip():
            continue
        label, _, mult = part.partition("=")
        parsed.append((label.strip(), float(mult) if mult else 1.0))
    return _Template(name, price, tuple(parsed) or (("", 1.0),), " ".join(description.split()))


# Category codes used in SKUs (HT-HAM-0001).
CATEGORY_CODES: dict[str, str] = {
    "Hand Tools": "HT",
    "Power Tools": "PT",
    "Paint & Finishes": "PF",
    "Hardware": "HW",
    "Lumber & Building Materials": "LB",
    "Electrical": "EL",
    "Plumbing": "PL",
    "Garden & Outdoor": "GO",
    "Storage & Organization": "SO",
}

# Fictional brands per category (no real trademarks).
BRANDS: dict[str, tuple[str, ...]] = {
    "Hand Tools": ("Ironridge", "Northfield", "Stoutmark", "Truecraft", "Cascade Forge"),
    "Power Tools": ("VoltEdge", "Ridgeback", "Torqline", "Kestrel", "Summit Power"),
    "Paint & Finishes": ("Evercoat", "Harbor Hue", "TrueTone", "Cedarline", "Rainshield"),
    "Hardware": ("BoltLine", "Fastenright", "Anchorpoint", "Steelcrest", "Holdfast"),
    "Lumber & Building Materials": ("Timberline", "Pacific Mills", "Stonebridge", "Coastal Ply",
                                    "Granitebay"),
    "Electrical": ("Brightway", "Lumera", "Voltmaster", "Northstar", "Wattwise"),
    "Plumbing": ("Flowright", "AquaSeal", "PipeMaster", "Clearwater", "Riverstone"),
    "Garden & Outdoor": ("GreenReach", "Meadowcraft", "Yardwise", "Fernhill", "Evergrove"),
    "Storage & Organization": ("StackRight", "Garage Logic", "Tidyhaus", "Sturdibox", "Orderly"),
}

# Product lines used to extend the catalogue beyond the curated set.
SERIES: tuple[tuple[str, float, str], ...] = (
    ("Pro", 1.25, "The Pro series uses heavier-gauge materials and carries a longer warranty "
                  "for people who use it every day."),
    ("Compact", 0.9, "The Compact series is smaller and lighter, easy to store in an apartment "
                     "closet or carry up a ladder."),
    ("Contractor", 1.35, "The Contractor series is built for daily jobsite abuse and comes with "
                         "replaceable wear parts."),
    ("Value", 0.75, "The Value series keeps the essentials at a lower price for occasional "
                    "household use."),
    ("Select", 1.1, "The Select series adds comfort details such as softer grips and clearer "
                    "markings."),
    ("Heavy-Duty", 1.4, "The Heavy-Duty series is reinforced for demanding, high-volume work."),
    ("Eco", 1.05, "The Eco series uses recycled packaging and materials where possible without "
                  "giving up performance."),
    ("Elite", 1.55, "The Elite series is the premium line, with the best materials and finish."),
    ("Home", 0.85, "The Home series is designed for homeowners tackling weekend projects."),
    ("XT", 1.2, "The XT series is tuned for extended run time and tougher conditions."),
)

# What makes each extension product's text its own (the curated products do not use these).
# The first sentence of a description is what gets embedded for search (product type + first
# sentence), so an extension product's first sentence says what the product is for, as its
# template does, then adds a look or origin (per category), its product line, who buys it
# (per category) and how it stands in the range: "..., in red and black, from the Pro line,
# popular with weekend DIYers and a long-time customer favourite." Every phrase is true of
# every product type of its category. Each template walks through the combinations in a
# seeded order, so no two of its products share a first sentence (see _extended_specs).
LOOKS: dict[str, tuple[str, ...]] = {
    "Hand Tools": ("in black and orange", "in red and black", "in yellow and black",
                   "in blue and grey", "in high-visibility green", "in matte black",
                   "in orange and grey", "in navy and silver"),
    "Power Tools": ("in yellow and black", "in teal and black", "in red and grey",
                    "in orange and black", "in lime green and grey", "in blue and black",
                    "in slate grey", "in white and red"),
    "Paint & Finishes": ("made in Ohio", "made in Pennsylvania", "made in Ontario",
                         "made in Texas", "made in North Carolina", "made in Minnesota",
                         "made in Georgia", "made in California"),
    "Hardware": ("made in Illinois", "made in Ohio", "made in Wisconsin", "made in Michigan",
                 "made in Indiana", "made in Tennessee", "made in Ontario", "made in Taiwan"),
    "Lumber & Building Materials": ("sourced from Oregon", "sourced from Georgia",
                                    "sourced from British Columbia",
                                    "sourced from Washington State", "sourced from Alabama",
                                    "sourced from Ontario", "sourced from Idaho",
                                    "sourced from Texas"),
    "Electrical": ("made in Mexico", "made in Ohio", "made in Tennessee",
                   "made in North Carolina", "made in Texas", "made in Ontario",
                   "made in Kentucky", "made in South Carolina"),
    "Plumbing": ("made in Ohio", "made in Texas", "made in Pennsylvania", "made in Illinois",
                 "made in Mexico", "made in Indiana", "made in Ontario", "made in Tennessee"),
    "Garden & Outdoor": ("made in Oregon", "made in Ohio", "made in Michigan",
                         "made in North Carolina", "made in Georgia", "made in Wisconsin",
                         "made in Ontario", "made in Tennessee"),
    "Storage & Organization": ("in black", "in graphite grey", "in white", "in red and black",
                               "in blue and grey", "in charcoal", "in silver and black",
                               "in sand beige"),
}
AUDIENCES: dict[str, tuple[str, ...]] = {
    "Hand Tools": ("popular with weekend DIYers", "a favourite of finish carpenters",
                   "chosen by property maintenance crews",
                   "a staple of first-time homeowners' toolkits",
                   "used daily by remodeling contractors", "trusted by facilities technicians",
                   "a common pick for apartment renters", "well liked by hobby woodworkers"),
    "Power Tools": ("popular with weekend DIYers", "built for remodeling contractors",
                    "a favourite of cabinet makers", "chosen by property maintenance crews",
                    "a common pick for first-time homeowners", "used daily by framing crews",
                    "well liked by hobby woodworkers",
                    "trusted by handymen and small contractors"),
    "Paint & Finishes": ("popular with weekend DIYers", "a favourite of professional painters",
                         "chosen by property managers for quick turnovers",
                         "a common pick for first-time homeowners",
                         "used by remodeling contractors", "well liked by furniture refinishers",
                         "trusted by apartment maintenance crews",
                         "a staple for rental-unit touch-ups"),
    "Hardware": ("popular with weekend DIYers", "a favourite of handymen",
                 "chosen by property maintenance crews",
                 "a common pick for first-time homeowners", "used by remodeling contractors",
                 "stocked by many general contractors", "trusted by apartment maintenance teams",
                 "well liked by hobby builders"),
    "Lumber & Building Materials": ("popular with weekend DIYers",
                                    "used by framing and remodeling crews",
                                    "chosen by general contractors",
                                    "a common pick for first-time homeowners",
                                    "trusted by custom home builders",
                                    "well liked by hobby builders",
                                    "popular with property managers for repairs",
                                    "a favourite of handymen"),
    "Electrical": ("popular with weekend DIYers", "a favourite of licensed electricians",
                   "chosen by property maintenance crews",
                   "a common pick for first-time homeowners", "used by remodeling contractors",
                   "trusted by facilities managers",
                   "specified by many electrical contractors",
                   "a staple of rental-unit upkeep"),
    "Plumbing": ("popular with weekend DIYers", "a favourite of licensed plumbers",
                 "chosen by property maintenance crews",
                 "a common pick for first-time homeowners", "used by remodeling contractors",
                 "trusted by facilities managers", "a staple of rental-unit upkeep",
                 "well liked by landlords"),
    "Garden & Outdoor": ("popular with weekend gardeners", "a favourite of landscaping crews",
                         "chosen by community garden groups",
                         "a common pick for first-time homeowners", "used by groundskeepers",
                         "well liked by vegetable growers",
                         "trusted by property maintenance crews",
                         "a staple for suburban yards"),
    "Storage & Organization": ("popular with busy families",
                               "a favourite of professional organizers",
                               "chosen by property managers",
                               "a common pick for first apartments",
                               "used by mechanics and hobbyists",
                               "well liked by small-space renters",
                               "trusted by garage remodelers", "a staple for move-in day"),
}
STANDINGS: tuple[str, ...] = (
    "a long-time customer favourite", "new to the range this year",
    "one of this season's best sellers", "highly rated by customers",
    "a staff pick at many stores", "recommended by our store associates",
)
DETAILS = 8 * 8 * len(STANDINGS)  # look x audience x standing: the combinations per template

# One line about each brand, closing an extension product's description.
BRAND_NOTES: dict[str, str] = {
    "Ironridge": "Ironridge has forged hand tools in Pennsylvania since 1948.",
    "Northfield": "Northfield designs its tools with input from working carpenters.",
    "Stoutmark": "Stoutmark tests every production batch for hardness and fit before it ships.",
    "Truecraft": "Truecraft builds its tools for accuracy and long service.",
    "Cascade Forge": "Cascade Forge is a family-owned toolmaker from the Pacific Northwest.",
    "VoltEdge": "VoltEdge is known for its service centers and fast warranty repairs.",
    "Ridgeback": "Ridgeback has supplied tools to framing and remodeling crews for four "
                 "decades.",
    "Torqline": "Torqline is an engineering-led brand focused on durability.",
    "Kestrel": "Kestrel designs its products in Denver and backs them with responsive support.",
    "Summit Power": "Summit Power is a value-minded brand sold in hardware stores nationwide.",
    "Evercoat": "Evercoat has made paints and coatings since 1921.",
    "Harbor Hue": "Harbor Hue is a coastal brand known for weather-tested products.",
    "TrueTone": "TrueTone is a favorite of color-conscious designers and decorators.",
    "Cedarline": "Cedarline specializes in wood care and finishing products.",
    "Rainshield": "Rainshield tests its products in a lab that simulates four seasons of "
                  "weather.",
    "BoltLine": "BoltLine has supplied builders and hardware stores since 1952.",
    "Fastenright": "Fastenright checks every production run for strength and finish.",
    "Anchorpoint": "Anchorpoint publishes load ratings and installation guides for its "
                   "products online.",
    "Steelcrest": "Steelcrest is a Midwest manufacturer known for sturdy, no-nonsense "
                  "hardware.",
    "Holdfast": "Holdfast offers a no-hassle replacement policy on everything it makes.",
    "Timberline": "Timberline is a regional building-products supplier with its own "
                  "distribution yards.",
    "Pacific Mills": "Pacific Mills has produced building materials on the West Coast since "
                     "1936.",
    "Stonebridge": "Stonebridge is a builder-trusted brand of construction materials.",
    "Coastal Ply": "Coastal Ply is known for consistent quality from batch to batch.",
    "Granitebay": "Granitebay makes products for professional crews and homeowners alike.",
    "Brightway": "Brightway products are safety-certified and backed by responsive customer "
                 "support.",
    "Lumera": "Lumera started as a lighting company and now designs a full range of electrical "
              "products.",
    "Voltmaster": "Voltmaster has supplied electricians since 1958.",
    "Northstar": "Northstar focuses on simple, reliable products that are easy to install.",
    "Wattwise": "Wattwise designs its products with energy savings in mind.",
    "Flowright": "Flowright has supplied plumbing parts to homes and contractors since 1946.",
    "AquaSeal": "AquaSeal designs its products to make repairs quick and dry.",
    "PipeMaster": "PipeMaster is a brand trusted by service plumbers.",
    "Clearwater": "Clearwater designs its products around water efficiency.",
    "Riverstone": "Riverstone is a family-owned plumbing brand with a free help line.",
    "GreenReach": "GreenReach builds garden products for big yards and small ones.",
    "Meadowcraft": "Meadowcraft has made garden tools and supplies since 1932.",
    "Yardwise": "Yardwise is known for clever, time-saving designs.",
    "Fernhill": "Fernhill tests its products in its own demonstration gardens.",
    "Evergrove": "Evergrove is a value-minded garden brand found in stores nationwide.",
    "StackRight": "StackRight designs products that fit together and stack neatly.",
    "Garage Logic": "Garage Logic started in garages and now designs storage for every room.",
    "Tidyhaus": "Tidyhaus is known for clean, modern designs.",
    "Sturdibox": "Sturdibox builds its products to carry heavy loads.",
    "Orderly": "Orderly offers a lifetime guarantee on its products.",
}


def _types() -> tuple[_Type, ...]:
    """The hand-written catalogue, category by category. A function, not import-time data."""
    return (
        *_hand_tools(), *_power_tools(), *_paint(), *_hardware(), *_lumber(), *_electrical(),
        *_plumbing(), *_garden(), *_storage(),
    )


def _hand_tools() -> tuple[_Type, ...]:
    c = "Hand Tools"
    return (
        _Type(c, "HAM", "Hammers & Mallets", 1.0, "single", (0.38, 0.55), (
            _t("{brand} {v} Fiberglass Claw Hammer", 22.99, "16 oz=1; 20 oz=1.12", """
               A curved-claw hammer for driving and pulling nails in framing, trim and everyday
               household repairs. The fiberglass handle absorbs shock and vibration, and the
               polished face reduces marring on finished surfaces. The {v} head is balanced for
               accurate, controlled swings."""),
            _t("{brand} {v} Steel Framing Hammer", 39.99, "22 oz=1; 28 oz=1.15", """
               A heavy straight-claw framing hammer for driving large nails into studs, joists
               and rafters. The milled face grips nail heads to prevent glancing blows, and the
               straight claw doubles as a pry bar for separating boards during demolition."""),
            _t("{brand} {v} Rubber Mallet", 12.99, "16 oz=1; 32 oz=1.3", """
               A soft-faced rubber mallet for tapping parts together without denting them:
               seating laminate flooring, assembling furniture, setting pavers and driving tent
               stakes. The non-marring head delivers force without leaving marks on wood, tile
               or metal."""),
            _t("{brand} {v} Drilling Sledge Hammer", 26.99, "3 lb=1; 4 lb=1.12", """
               A short-handled sledge hammer for striking cold chisels, masonry stakes and star
               drills and for light demolition work. The double-faced forged head puts real
               weight behind every blow while the short handle keeps it controllable in tight
               spaces."""),
        )),
        _Type(c, "SCR", "Screwdrivers & Nut Drivers", 1.0, "single", (0.4, 0.58), (
            _t("{brand} {v} Multi-Bit Screwdriver", 14.99, "11-in-1=1; 14-in-1=1.2", """
               A multi-bit screwdriver that stores Phillips, slotted, square and Torx bits in
               the handle, so one tool handles most screws around the house. Use it to tighten
               cabinet hinges, outlet covers, toys and appliance panels; the cushioned grip
               gives extra torque on stubborn screws."""),
            _t("{brand} {v} Precision Screwdriver Set", 19.99, "6-Piece=1; 24-Piece=1.5", """
               Small precision screwdrivers for eyeglasses, laptops, phones, watches, game
               controllers and battery compartments. Hardened tips fit tiny Phillips, slotted
               and Torx screws, and the swivel cap lets you spin the driver with one finger for
               fine control."""),
            _t("{brand} {v} Insulated Screwdriver Set", 34.99, "5-Piece=1; 8-Piece=1.4", """
               Screwdrivers with 1000-volt rated insulation for working on switches, outlets
               and electrical panels more safely. The insulation runs right down to the tip,
               and the set covers the slotted and Phillips sizes used on most wiring devices."""),
            _t("{brand} {v} Nut Driver Set", 24.99, "7-Piece=1; 10-Piece=1.3", """
               Hollow-shaft nut drivers for tightening hex nuts and bolts on appliances,
               ductwork, hose clamps and electrical boxes. Color-coded handles make the right
               size quick to find, and the hollow shaft slips over long threaded rods."""),
        )),
        _Type(c, "WRP", "Wrenches & Pliers", 1.0, "single", (0.38, 0.55), (
            _t("{brand} {v} Adjustable Wrench", 16.99, "8 in=1; 10 in=1.2; 12 in=1.45", """
               An adjustable wrench whose jaw opens to fit nuts and bolts of many sizes, handy
               for plumbing fittings, bicycle repairs and furniture assembly. The {v} length
               gives good leverage, and the etched scale makes it easy to set the jaw width."""),
            _t("{brand} {v} Combination Wrench Set", 39.99, "SAE 11-Piece=1; Metric 12-Piece=1.05",
               """
               Open-end and box-end wrenches in one set for loosening and tightening nuts and
               bolts on cars, bikes, lawn mowers and machinery. The 12-point box end grips
               fasteners in tight spots, and the chrome finish resists rust."""),
            _t("{brand} {v} Groove Joint Pliers", 18.99, "10 in=1; 12 in=1.2", """
               Tongue-and-groove pliers with adjustable jaws for gripping pipes, fittings, nuts
               and odd-shaped objects. Ideal for tightening the slip nuts under a sink or
               holding a pipe steady while you turn a fitting."""),
            _t("{brand} {v} Needle-Nose Pliers", 11.99, "6 in=1; 8 in=1.15", """
               Long, slender pliers for reaching into tight spaces, bending wire loops and
               holding small parts. A built-in side cutter snips wire, and the serrated jaws
               grip securely for electrical, jewelry-making and repair work."""),
            _t("{brand} {v} Socket Set", 49.99, "3/8 in Drive 40-Piece=1; 1/4 and 3/8 in Drive "
               "90-Piece=1.8", """
               A ratchet and socket set for car repair, machinery maintenance and furniture
               assembly. The fine-tooth ratchet works in tight spaces, the sockets fit common
               SAE and metric bolts, and a molded case keeps every piece organized."""),
        )),
        _Type(c, "MEA", "Measuring & Layout", 1.3, "single", (0.4, 0.58), (
            _t("{brand} {v} Tape Measure", 12.99, "16 ft=1; 25 ft=1.3; 35 ft=1.7", """
               A retractable tape measure for measuring rooms, lumber, furniture and windows.
               The {v} blade has a long standout so you can measure across openings on your
               own, and the magnetic hook grabs steel studs. A belt clip keeps it at hand."""),
            _t("{brand} {v} Level", 19.99, "9 in Torpedo=1; 48 in Box Beam=2.3", """
               A spirit level for checking that shelves, pictures, cabinets, fence posts and
               framing are level and plumb. Easy-to-read vials show horizontal, vertical and
               45-degree readings, and the aluminum frame stays true after drops."""),
            _t("{brand} {v} Stud Finder", 29.99, "Edge-Detecting=1; Multi-Scan with AC "
               "Detection=1.6", """
               An electronic stud finder that locates wood and metal studs behind drywall so
               you can hang TVs, shelves and heavy mirrors securely. It also warns of live AC
               wiring inside the wall, helping you avoid drilling into wires or pipes."""),
            _t("{brand} {v} Laser Level", 59.99, "Cross-Line=1; 360-Degree Green Beam=2.5", """
               A self-leveling laser level that projects bright straight lines on walls for
               hanging picture groupings, installing cabinets, laying tile and setting chair
               rail. Mount it on a tripod or the magnetic bracket; the beam is visible across a
               room."""),
            _t("{brand} {v} Speed Square", 9.99, "7 in=1; 12 in=1.6", """
               A triangular rafter square for marking 90- and 45-degree cuts on boards and for
               laying out roof rafters and stair stringers. Hold it against the edge of a board
               as a saw guide for straight crosscuts with a circular saw."""),
        )),
        _Type(c, "CUT", "Hand Saws & Knives", 0.9, "single", (0.4, 0.58), (
            _t("{brand} {v} Hand Saw", 21.99, "15 in=1; 20 in=1.15", """
               A hardpoint hand saw for cutting lumber, plywood and the odd branch when power
               is not handy. The aggressive tri-ground teeth cut fast, clean crosscuts and rip
               cuts and stay sharp far longer than ordinary saw teeth."""),
            _t("{brand} {v} Utility Knife", 9.99, "Retractable=1; Folding Lockback=1.3", """
               A razor-sharp utility knife for opening boxes, cutting carpet, scoring drywall
               and trimming roofing felt. Blades change without tools and spare blades store in
               the handle, so a sharp edge is always ready."""),
            _t("{brand} {v} Hacksaw", 17.99, "12 in=1; 12 in High-Tension=1.4", """
               A hacksaw for cutting metal pipe, bolts, threaded rod, PVC and electrical
               conduit. The tensioned frame holds the blade rigid for straight cuts, and blades
               swap in seconds when they dull."""),
            _t("{brand} {v} Wood Chisel Set", 29.99, "3-Piece=1; 6-Piece=1.7", """
               Bevel-edge wood chisels for cutting mortises, recessing door hinges and strike
               plates, and paring joints in woodworking. Hardened steel blades hold an edge,
               and steel striking caps let you drive them with a mallet."""),
        )),
        _Type(c, "SAF", "Safety & Work Gear", 1.2, "few", (0.45, 0.6), (
            _t("{brand} {v} Safety Glasses", 7.99, "Clear Anti-Fog=1; Tinted Outdoor=1.1", """
               Impact-rated safety glasses that protect your eyes from flying wood chips, metal
               shards and dust while sawing, drilling, grinding or mowing. Wraparound lenses
               give side protection and an anti-scratch coating keeps vision clear."""),
            _t("{brand} {v} Work Gloves", 14.99, "Leather Palm=1; Cut-Resistant Nitrile=1.2", """
               Durable work gloves that protect hands from splinters, blisters, scrapes and
               cuts during construction, landscaping, moving and yard work. Breathable backs
               keep hands cool and reinforced palms grip tools and lumber."""),
            _t("{brand} {v} Hearing Protection Earmuffs", 19.99, "NRR 25 dB=1; NRR 30 dB=1.3", """
               Padded earmuffs that cut the noise of chainsaws, lawn mowers, leaf blowers and
               table saws to a safe level. The adjustable headband and soft cushions stay
               comfortable through long work sessions."""),
            _t("{brand} {v} Dust Mask Respirator", 12.99, "N95 10-Pack=1; Reusable Half-Mask=2.2",
               """
               Respiratory protection against sawdust, drywall dust, sanding particles and
               pollen. An adjustable nose clip seals the mask for a comfortable fit during
               demolition, sanding and cleanup."""),
        )),
    )


def _power_tools() -> tuple[_Type, ...]:
    c = "Power Tools"
    return (
        _Type(c, "DRL", "Drills & Drivers", 1.4, "single", (0.25, 0.38), (
            _t("{brand} {v} Cordless Combo Kit", 199.99, "20V 2-Tool=1; 20V 4-Tool=1.8", """
               A cordless power tool combo kit with a drill/driver and impact driver (plus a
               circular saw and work light in the larger kit) sharing the same batteries. A
               great first set of power tools for building furniture, decks and shelves and for
               home repairs."""),
            _t("{brand} {v} Cordless Drill/Driver Kit", 99.99, "12V=1; 20V=1.4", """
               A cordless drill and driver for drilling holes in wood, metal and plastic and
               for driving screws when assembling furniture, hanging shelves or building a
               deck. The {v} kit includes a battery, charger and bag; the adjustable clutch
               prevents stripping screws."""),
            _t("{brand} {v} Cordless Impact Driver", 129.99, "20V Brushless=1; 20V Compact=0.85",
               """
               A high-torque impact driver that sinks long deck screws, lag bolts and
               structural fasteners with ease. The hex chuck accepts quick-change bits, and the
               impact mechanism drives fasteners without wearing out your wrist."""),
            _t("{brand} {v} Hammer Drill", 149.99, "Corded 1/2 in=1; 20V Cordless=1.3", """
               A hammer drill for boring into brick, block, stone and concrete to set anchors,
               mount railings or run conduit. Switch off the hammer action for ordinary
               drilling in wood and steel."""),
            _t("{brand} {v} Drill Bit Set", 24.99, "29-Piece Titanium=1; 100-Piece Mixed=1.6", """
               A set of drill bits for making holes in wood, metal, plastic and masonry, plus
               driver bits for screws. The {v} set comes in a case labeled by size so the right
               bit is easy to find."""),
        )),
        _Type(c, "SAW", "Power Saws", 1.0, "single", (0.25, 0.36), (
            _t("{brand} {v} Circular Saw", 119.99, "7-1/4 in Corded=1; 20V Cordless=1.4", """
               A circular saw for fast straight cuts through plywood, 2x4 lumber, decking and
               sheet goods. An adjustable bevel cuts angles up to 56 degrees, and the laser
               guide and electric brake make cuts accurate and safe."""),
            _t("{brand} {v} Jigsaw", 79.99, "Corded Orbital=1; 20V Cordless=1.3", """
               A jigsaw for cutting curves, circles and cut-outs in wood, laminate and metal,
               such as a sink opening in a countertop. Orbital action speeds rough cuts, and
               the tool-free blade change takes seconds."""),
            _t("{brand} {v} Reciprocating Saw", 109.99, "Corded=1; 20V Cordless=1.25", """
               A reciprocating saw for demolition and remodeling: cutting through studs, nails,
               pipe and tree branches. The variable-speed trigger and pivoting shoe keep the
               blade under control in awkward positions."""),
            _t("{brand} {v} Compound Miter Saw", 249.99, "10 in=1; 12 in Sliding=1.8", """
               A miter saw for precise crosscuts and angled cuts in trim, moulding, picture
               frames and framing lumber. Positive stops at common angles make repeatable cuts
               for crown moulding, baseboards and deck railings."""),
            _t("{brand} {v} Jobsite Table Saw", 399.99, "10 in=1", """
               A portable table saw for ripping plywood and boards to width and making long,
               straight cuts. The rack-and-pinion fence stays parallel to the blade, and the
               folding stand rolls to the jobsite or garage."""),
        )),
        _Type(c, "SND", "Sanders & Grinders", 0.8, "single", (0.27, 0.38), (
            _t("{brand} {v} Heat Gun", 34.99, "Dual-Temperature=1; Variable with LCD=1.6", """
               A heat gun for stripping old paint and varnish, loosening stuck bolts and
               adhesives, thawing frozen pipes and shrinking heat-shrink tubing and wrap.
               Interchangeable nozzles focus or spread the hot air."""),
            _t("{brand} {v} Random Orbit Sander", 69.99, "5 in=1; 6 in=1.3", """
               A random orbit sander for smoothing wood before painting or staining and for
               removing old finishes from furniture and cabinets. Hook-and-loop pads change in
               seconds and the dust bag keeps the work area clean."""),
            _t("{brand} {v} Angle Grinder", 79.99, "4-1/2 in=1; 20V Cordless=1.5", """
               An angle grinder for cutting rebar and bolts, grinding welds, sharpening mower
               blades and removing rust. The side handle and spindle lock make wheel changes
               and two-handed control easy."""),
            _t("{brand} {v} Detail Sander", 44.99, "Corded=1; 12V Cordless=1.3", """
               A small triangular sander that reaches corners, edges and tight spots on stair
               spindles, window frames and furniture. Light and easy to control, it sands by
               hand quality in a fraction of the time."""),
        )),
        _Type(c, "OSC", "Multi-Tools & Rotary Tools", 0.7, "single", (0.27, 0.38), (
            _t("{brand} {v} Oscillating Multi-Tool", 89.99, "Corded=1; 20V Cordless=1.2", """
               An oscillating multi-tool for flush-cutting door jambs, trimming baseboards,
               removing grout and scraping old adhesive. Quick-change blades and accessories
               make it one of the most versatile tools for remodeling."""),
            _t("{brand} {v} Rotary Tool Kit", 59.99, "Corded 30-Accessory=1; Cordless "
               "50-Accessory=1.4", """
               A high-speed rotary tool for engraving, carving, sanding, polishing and cutting
               small parts. Useful for crafts, hobby work, sharpening and small repairs around
               the house."""),
        )),
        _Type(c, "NAI", "Nailers & Compressors", 0.6, "single", (0.25, 0.35), (
            _t("{brand} {v} Brad Nailer", 119.99, "18-Gauge Pneumatic=1; 18-Gauge Cordless=1.8",
               """
               A brad nailer for attaching trim, baseboards, moulding and small woodworking
               projects without splitting the wood. Tool-free depth adjustment sets nails flush
               or just below the surface for easy filling."""),
            _t("{brand} {v} Pancake Air Compressor", 149.99, "6 Gallon=1; 8 Gallon=1.3", """
               A portable air compressor that powers nail guns and inflates tires, sports balls
               and pool toys. The oil-free pump needs no maintenance and the quick-connect
               coupler makes switching tools fast."""),
        )),
        _Type(c, "BAT", "Batteries & Chargers", 0.9, "single", (0.28, 0.4), (
            _t("{brand} {v} Lithium-Ion Battery", 79.99, "20V 2.0Ah=1; 20V 5.0Ah=1.6", """
               A replacement and spare battery for 20V cordless drills, saws, trimmers and
               blowers. A built-in fuel gauge shows the remaining charge so you are never
               caught without power mid-project."""),
            _t("{brand} {v} Rapid Battery Charger", 49.99, "Single-Port=1; Dual-Port=1.5", """
               A fast charger for 12V and 20V lithium-ion tool batteries that refills a pack in
               about an hour. Cooling fans and charge indicators protect battery life."""),
        )),
        _Type(c, "VAC", "Wet/Dry Vacuums", 0.6, "single", (0.28, 0.4), (
            _t("{brand} {v} Wet/Dry Shop Vacuum", 89.99, "5 Gallon=1; 12 Gallon=1.5", """
               A shop vacuum that picks up sawdust, drywall debris, spilled water and leaves in
               garages, basements and workshops. The blower port clears patios, and the filter
               captures fine dust from sanding."""),
        )),
    )


def _paint() -> tuple[_Type, ...]:
    c = "Paint & Finishes"
    return (
        _Type(c, "INT", "Interior Paint", 1.4, "few", (0.45, 0.6), (
            _t("{brand} {v} Interior Eggshell Paint and Primer", 38.99, "1 Gallon=1; 5 Gallon=4.5",
               """
               An interior wall paint with built-in primer for living rooms, bedrooms and
               hallways. The eggshell finish hides wall imperfections, wipes clean of
               fingerprints and covers most colors in two coats."""),
            _t("{brand} {v} Interior Satin Kitchen and Bath Paint", 42.99, "1 Quart=0.4; "
               "1 Gallon=1", """
               A mildew-resistant satin paint made for kitchens, bathrooms and laundry rooms,
               where steam and splashes ruin ordinary paint. It scrubs clean without losing its
               sheen."""),
            _t("{brand} {v} Ceiling Paint", 29.99, "1 Gallon=1; 5 Gallon=4.3", """
               A flat white paint for ceilings that hides stains and patches and reduces glare.
               The thick, spatter-resistant formula goes on pink and dries white so you can see
               where you have rolled."""),
            _t("{brand} {v} Semi-Gloss Trim and Door Enamel", 24.99, "1 Quart=1; 1 Gallon=2.3",
               """
               A hard, glossy enamel for trim, doors, cabinets and railings that levels out
               brush marks and resists chipping and scuffs. Cleans with soap and water. Dries
               to a durable, furniture-grade shine."""),
        )),
        _Type(c, "EXT", "Exterior Paint", 1.1, "few", (0.45, 0.6), (
            _t("{brand} {v} Exterior Satin House Paint", 49.99, "1 Gallon=1; 5 Gallon=4.5", """
               An exterior paint for siding, trim, fences and outdoor wood that stands up to
               rain, sun and temperature swings. The 100% acrylic formula resists peeling,
               blistering and fading and adheres to previously painted surfaces."""),
            _t("{brand} {v} Porch and Floor Enamel", 44.99, "1 Quart=0.4; 1 Gallon=1", """
               A tough paint for porches, patios, concrete floors and steps that resists foot
               traffic, scuffs and hot-tire pickup in garages. Slip-resistant additive
               available for outdoor stairs."""),
            _t("{brand} {v} Masonry and Stucco Paint", 46.99, "1 Gallon=1; 5 Gallon=4.4", """
               An elastomeric paint for brick, block, stucco and concrete walls that bridges
               hairline cracks and keeps out wind-driven rain. Lets moisture vapor escape to
               prevent peeling."""),
        )),
        _Type(c, "STN", "Stains & Sealers", 1.0, "few", (0.42, 0.58), (
            _t("{brand} {v} Semi-Transparent Deck and Fence Stain", 39.99, "1 Gallon=1; "
               "5 Gallon=4.4", """
               An outdoor wood stain for decks, fences and siding that adds color while letting
               the wood grain show through. It protects against UV graying and water damage and
               is easy to recoat each season."""),
            _t("{brand} {v} Oil-Based Interior Wood Stain", 14.99, "Golden Oak Quart=1; Dark "
               "Walnut Quart=1", """
               A penetrating wood stain that brings out the grain of furniture, cabinets, doors
               and trim. Apply with a brush or rag, wipe off the excess, then protect with a
               clear polyurethane."""),
            _t("{brand} {v} Water-Based Polyurethane", 24.99, "Satin Quart=1; Gloss Gallon=2.8",
               """
               A clear protective finish for floors, tables, cabinets and woodwork that resists
               scratches, spills and yellowing. Dries in two hours so several coats go on in a
               day."""),
            _t("{brand} {v} Clear Waterproofing Sealer", 29.99, "1 Gallon=1; 5 Gallon=4.2", """
               A clear water repellent for decks, fences, concrete and brick that makes water
               bead up and roll off. Prevents rot, mildew and freeze-thaw damage without
               changing the look of the surface."""),
        )),
        _Type(c, "PRI", "Primers", 0.6, "few", (0.42, 0.58), (
            _t("{brand} {v} Stain-Blocking Primer", 27.99, "1 Quart=0.45; 1 Gallon=1", """
               A primer-sealer that blocks water stains, smoke damage, marker and knots from
               bleeding through new paint. Sticks to glossy surfaces, tile and laminate without
               sanding."""),
            _t("{brand} {v} Drywall Primer", 19.99, "1 Gallon=1; 5 Gallon=4.2", """
               A primer for new drywall and patched walls that seals the paper and joint
               compound so the topcoat dries with an even sheen and no flashing over seams.
               Dries in an hour."""),
        )),
        _Type(c, "APP", "Brushes & Rollers", 1.2, "few", (0.5, 0.6), (
            _t("{brand} {v} Paint Roller Kit", 14.99, "9 in 3-Piece=1; 9 in 7-Piece=1.5", """
               A paint roller kit with frame, roller covers and tray for painting walls and
               ceilings quickly and evenly. Screw the frame onto an extension pole to reach
               ceilings and stairwells without a ladder."""),
            _t("{brand} {v} Roller Covers", 9.99, "3/8 in Nap 3-Pack=1; 1/2 in Nap 3-Pack=1.1",
               """
               Lint-free woven roller covers that hold plenty of paint for smooth walls and
               ceilings. The {v} covers spread flat, eggshell and satin paints evenly without
               leaving fuzz behind."""),
            _t("{brand} {v} Angled Sash Brush", 11.99, "2 in=1; 2-1/2 in=1.2", """
               An angled paintbrush for cutting in along ceilings, corners and trim with a
               clean, straight line. The nylon-polyester bristles work with all paints and hold
               their shape wash after wash."""),
            _t("{brand} {v} Telescoping Extension Pole", 19.99, "2-4 ft=1; 4-8 ft=1.5", """
               An extension pole that screws onto paint rollers, dusters and squeegees to reach
               high walls, ceilings and stairwells from the floor. The locking mechanism holds
               the length you set, and the threaded tip fits most roller frames."""),
        )),
        _Type(c, "SUP", "Painting & Prep Supplies", 1.3, "consumable", (0.5, 0.6), (
            _t("{brand} {v} Painter's Tape", 6.99, "1.41 in x 60 yd=1; 1.88 in x 60 yd 3-Pack=2.6",
               """
               Blue painter's tape that masks trim, windows and edges for crisp paint lines and
               peels off cleanly for up to 14 days without leaving residue or pulling off
               paint. Works on walls, wood and glass."""),
            _t("{brand} {v} Drop Cloth", 12.99, "Canvas 9 x 12 ft=1; Plastic 12 x 15 ft 3-Pack=0.6",
               """
               A drop cloth that protects floors and furniture from paint drips, spatter and
               dust during painting, sanding and remodeling projects. Heavy enough to stay put
               underfoot, it can be washed and reused on the next job."""),
            _t("{brand} {v} Sandpaper Assortment", 8.99, "25-Sheet=1; 50-Sheet=1.7", """
               Sandpaper sheets in coarse, medium and fine grits for smoothing wood, removing
               old paint and scuffing surfaces before painting. Cut or fold them for sanding
               blocks, detail work and furniture refinishing."""),
            _t("{brand} {v} Sanding Sponge", 4.49, "Medium Grit=1; Fine Grit 4-Pack=2.6", """
               A flexible foam sanding block that follows curves and moulding profiles and can
               be rinsed and reused. Great for smoothing drywall patches and sanding between
               coats of finish."""),
            _t("{brand} {v} Lightweight Spackling", 7.99, "8 oz=1; 32 oz=2.1", """
               A ready-to-use spackling paste for filling nail holes, dents and small cracks in
               drywall and plaster before painting. Dries fast without shrinking and sands
               easily."""),
        )),
        _Type(c, "CAU", "Caulk & Sealants", 1.2, "consumable", (0.5, 0.6), (
            _t("{brand} {v} Painter's Acrylic Caulk", 3.99, "10.1 oz White=1; 10.1 oz 12-Pack=10",
               """
               A paintable acrylic latex caulk for filling gaps along trim, baseboards, crown
               moulding and window casings before painting. Cleans up with water and can be
               painted in 30 minutes."""),
            _t("{brand} {v} Kitchen and Bath Silicone Sealant", 8.99, "Clear=1; White=1", """
               A 100% silicone sealant for sealing around tubs, showers, sinks and countertops.
               Waterproof, flexible and mildew-resistant, it keeps water out of the gaps where
               rot and mold start."""),
            _t("{brand} {v} Window and Door Sealant", 7.49, "Clear=1; White=1", """
               An all-weather sealant that seals gaps around windows, doors, siding and vents
               to stop drafts and water leaks. Stays flexible from freezing winters to hot
               summers."""),
        )),
        _Type(c, "SPR", "Spray Paint", 0.9, "few", (0.5, 0.6), (
            _t("{brand} {v} Multi-Surface Spray Paint", 7.99, "Gloss Black=1; Satin White=1; "
               "Hammered Bronze=1.1", """
               Spray paint for wood, metal, plastic, wicker and more, ideal for refreshing
               patio furniture, picture frames, planters and railings. The comfort tip sprays
               evenly in any direction and dries to the touch in 20 minutes."""),
            _t("{brand} {v} Rust-Preventive Enamel Spray", 8.99, "Gloss Black=1; Flat Red "
               "Primer=1", """
               A rust-preventive spray enamel that stops corrosion on metal railings, gates,
               tools, mailboxes and outdoor furniture. Spray directly over light rust. One coat
               seals out moisture."""),
        )),
    )


def _hardware() -> tuple[_Type, ...]:
    c = "Hardware"
    return (
        _Type(c, "SCW", "Screws", 1.5, "consumable", (0.5, 0.6), (
            _t("{brand} {v} Exterior Deck Screws", 11.99,
               "#9 x 2-1/2 in 1 lb=1; #9 x 3 in 5 lb=4.3",
               """
               Coated deck screws for fastening deck boards, fences, pergolas and other outdoor
               wood projects. The corrosion-resistant coating stands up to pressure-treated
               lumber, and the star drive keeps the bit from slipping."""),
            _t("{brand} {v} Wood Screws", 8.99, "#8 x 1-1/4 in 100-Pack=1; #10 x 3 in 50-Pack=1.4",
               """
               General-purpose wood screws for furniture, cabinets, shelving and framing
               repairs. Sharp points start easily and coarse threads bite into softwood and
               hardwood without predrilling."""),
            _t("{brand} {v} Drywall Screws", 9.49, "1-1/4 in 1 lb=1; 1-5/8 in 5 lb=4.2", """
               Fine-thread phosphate drywall screws for hanging drywall on wood studs. The
               bugle head sets just below the paper surface without tearing it, ready for joint
               compound."""),
            _t("{brand} {v} Sheet Metal Screws", 6.99, "#8 x 1/2 in 100-Pack=1; #10 x 3/4 in "
               "100-Pack=1.2", """
               Self-tapping hex-head screws for fastening sheet metal, ductwork, gutters and
               thin steel. The sharp point and hardened threads cut their own path through
               metal."""),
        )),
        _Type(c, "NAI", "Nails", 0.9, "consumable", (0.5, 0.6), (
            _t("{brand} {v} Common Nails", 7.99, "16d 3-1/2 in 1 lb=1; 8d 2-1/2 in 5 lb=3.8", """
               Bright steel common nails for framing walls, building sheds and general
               carpentry. The thick shank and large head give strong holding power in
               construction lumber."""),
            _t("{brand} {v} Finish Nails", 5.99, "4d 1-1/2 in 1 lb=1; 6d 2 in 1 lb=1.05", """
               Small-headed finish nails for trim, moulding, paneling and cabinets. Set the
               head below the surface and fill the hole for an invisible fastening. Use a nail
               set to sink the heads."""),
            _t("{brand} {v} Galvanized Roofing Nails", 9.99, "1-1/4 in 1 lb=1; 1-1/4 in 5 lb=4",
               """
               Hot-dip galvanized nails with wide heads for fastening asphalt shingles, roofing
               felt and tar paper without tearing. Rust-resistant for outdoor use. Also good
               for fastening siding underlayment."""),
        )),
        _Type(c, "ANC", "Anchors & Toggles", 1.2, "consumable", (0.5, 0.6), (
            _t("{brand} {v} Drywall Wall Anchors", 6.99, "Self-Drilling 20-Pack=1; Plastic "
               "Ribbed 100-Pack=0.9", """
               Wall anchors that let you hang shelves, mirrors, curtain rods and pictures on
               drywall where there is no stud behind the wall. They spread behind the board to
               hold up to 75 lb without damaging the wall."""),
            _t("{brand} {v} Toggle Bolts", 8.99, "1/8 in 10-Pack=1; 1/4 in 10-Pack=1.4", """
               Spring-wing toggle bolts for hanging heavy loads such as TV mounts, grab bars
               and cabinets on hollow walls and ceilings. The wings open behind drywall or
               plaster to spread the load."""),
            _t("{brand} {v} Concrete Anchors", 12.99, "Sleeve Anchors 3/8 in 10-Pack=1; "
               "Masonry Screws 1/4 in 25-Pack=1.1", """
               Anchors for attaching railings, shelving, ledger boards and equipment to
               concrete, brick and block walls and floors. Drill a hole with a masonry bit and
               tighten for a secure hold."""),
        )),
        _Type(c, "BLT", "Bolts, Nuts & Washers", 0.8, "consumable", (0.5, 0.6), (
            _t("{brand} {v} Hex Bolt Assortment", 19.99, "Zinc 150-Piece=1; Stainless "
               "200-Piece=1.8", """
               An organized assortment of hex bolts, nuts and washers in common sizes for
               repairs to furniture, machinery, trailers and outdoor equipment. The compartment
               case keeps every size sorted."""),
            _t("{brand} {v} Galvanized Carriage Bolts", 9.99, "3/8 x 4 in 10-Pack=1; 1/2 x 6 in "
               "10-Pack=1.8", """
               Round-head carriage bolts with a square neck that locks into wood, used to build
               decks, playsets, fences and docks. The galvanized finish resists outdoor
               corrosion."""),
        )),
        _Type(c, "DOR", "Door & Cabinet Hardware", 0.8, "few", (0.45, 0.6), (
            _t("{brand} {v} Entry Door Knob and Deadbolt Set", 49.99, "Satin Nickel=1; Matte "
               "Black=1.05", """
               A keyed entry knob and single-cylinder deadbolt to secure front and back doors.
               Both locks share the same key, fit standard door preparations and install with a
               screwdriver."""),
            _t("{brand} {v} Door Hinges", 8.99, "3-1/2 in 2-Pack=1; 4 in 3-Pack=1.5", """
               Steel door hinges for replacing worn or squeaky interior door hinges or hanging
               new doors. The removable pins make it easy to take the door off for painting."""),
            _t("{brand} {v} Cabinet Pulls", 14.99, "3 in 10-Pack=1; 5 in 10-Pack=1.3", """
               Modern bar pulls for updating kitchen and bathroom cabinets, dressers and
               drawers. Mounting screws included for standard cabinet doors. A quick way to
               give old cabinetry a fresh, new look without replacing it."""),
        )),
        _Type(c, "LAD", "Ladders & Step Stools", 0.6, "single", (0.28, 0.4), (
            _t("{brand} {v} Aluminum Step Ladder", 89.99, "6 ft=1; 8 ft=1.45", """
               A lightweight aluminum step ladder for painting, changing light fixtures,
               cleaning gutters on single-story homes and reaching high shelves. Slip-resistant
               steps and a tool tray with a paint-can holder."""),
            _t("{brand} {v} Fiberglass Extension Ladder", 249.99, "16 ft=1; 24 ft=1.45", """
               A non-conductive fiberglass extension ladder for roof access, gutter cleaning,
               painting siding and trimming trees. Safe to use near electrical lines, with
               swivel shoes for soft ground."""),
            _t("{brand} {v} Folding Step Stool", 29.99, "2-Step=1; 3-Step=1.3", """
               A sturdy folding step stool for the kitchen, closet and garage that gives you a
               safe boost to reach upper cabinets and shelves, then folds flat to store. Wide
               non-slip steps."""),
        )),
        _Type(c, "ADH", "Adhesives & Tape", 1.1, "consumable", (0.5, 0.6), (
            _t("{brand} {v} Construction Adhesive", 5.99, "10 oz=1; 28 oz=2", """
               A heavy-duty construction adhesive for bonding subfloors, paneling, stair
               treads, landscape blocks and molding. Works on wet or frozen lumber and fills
               gaps."""),
            _t("{brand} {v} Duct Tape", 7.99, "1.88 in x 35 yd=1; 1.88 in x 60 yd=1.5", """
               Strong, water-resistant duct tape for quick repairs, bundling, patching tarps
               and sealing. Tears cleanly by hand and sticks to rough surfaces. Handy in the
               garage, the car and the camping kit."""),
            _t("{brand} {v} Wood Glue", 4.99, "8 oz=1; 16 oz=1.6", """
               A wood glue for furniture repair, cabinets and woodworking joints that bonds
               stronger than the wood itself. Sands and paints once dry; cleans up with water."""),
        )),
    )


def _lumber() -> tuple[_Type, ...]:
    c = "Lumber & Building Materials"
    return (
        _Type(c, "DIM", "Dimensional Lumber", 1.6, "bulk", (0.25, 0.35), (
            _t("5/8 in x 5-1/2 in x {v} Western Red Cedar Fence Picket", 4.29, "6 ft=1; "
               "6 ft Dog-Ear=1.05", """
               A cedar fence board for building and repairing privacy fences, garden screens
               and planter boxes. Cedar naturally resists rot and insects and weathers to a
               silver gray if left unfinished, or it can be stained."""),
            _t("2 in x 4 in x {v} Kiln-Dried Whitewood Stud", 4.49, "8 ft=1; 10 ft=1.4", """
               A straight kiln-dried 2x4 stud for framing interior walls, building workbenches,
               shelving, sheds and general construction. Cut it with a circular or miter saw;
               it takes screws and nails without splitting."""),
            _t("2 in x 6 in x {v} Douglas Fir Lumber", 9.99, "8 ft=1; 12 ft=1.5", """
               A strong 2x6 board for floor joists, rafters, deck framing and raised garden
               beds. Douglas fir gives excellent strength and stiffness for structural work."""),
            _t("4 in x 4 in x {v} Pressure-Treated Post", 14.99, "8 ft=1; 10 ft=1.3", """
               A pressure-treated 4x4 post for fence posts, deck supports, mailbox posts and
               pergolas. Treated to resist rot, decay and termites, rated for ground contact."""),
            _t("5/4 in x 6 in x {v} Pressure-Treated Deck Board", 11.99, "8 ft=1; 12 ft=1.5", """
               A treated decking board with rounded edges for building and replacing deck
               surfaces, docks and walkways. Resists rot and insects for years outdoors. Use
               with coated deck screws."""),
        )),
        _Type(c, "PLY", "Plywood & Sheet Goods", 1.0, "few", (0.25, 0.35), (
            _t("{v} Sanded Plywood, 4 ft x 8 ft", 39.99, "1/2 in=1; 3/4 in=1.35", """
               A sanded plywood sheet with a smooth face for cabinets, shelving, furniture,
               workbenches and built-ins. Cut it to size with a circular or table saw; it
               paints and stains well."""),
            _t("7/16 in OSB Sheathing, 4 ft x 8 ft{v}", 17.99, "", """
               Oriented strand board panels for wall and roof sheathing, subfloors and shed
               construction. Strong, economical and easy to nail, OSB forms the structural skin
               of a wood-framed building."""),
            _t("{v} MDF Panel, 4 ft x 8 ft", 34.99, "1/2 in=1; 3/4 in=1.3", """
               A medium-density fiberboard panel with a perfectly smooth surface for painted
               cabinets, shelves, wainscoting and crafts. Machines cleanly with no knots or
               grain."""),
        )),
        _Type(c, "DRY", "Drywall & Accessories", 1.0, "bulk", (0.3, 0.4), (
            _t("{v} Drywall Panel, 4 ft x 8 ft", 14.99, "1/2 in Regular=1; 5/8 in Fire-Rated=1.3",
               """
               A gypsum drywall sheet for building and repairing interior walls and ceilings.
               Score with a utility knife and snap to size; finish the seams with joint
               compound and tape for a paintable surface."""),
            _t("{brand} {v} All-Purpose Joint Compound", 16.99, "1 Gallon=0.6; 4.5 Gallon=1", """
               A premixed joint compound for taping drywall seams, filling screw holes, skim
               coating and repairing cracks in walls and ceilings. Smooth to apply, easy to
               sand."""),
            _t("{brand} {v} Drywall Repair Patch Kit", 9.99, "4 in=1; 8 in=1.4", """
               A self-adhesive mesh patch for fixing doorknob holes and dents in drywall. Stick
               it over the hole, cover with spackle or joint compound, sand and paint."""),
        )),
        _Type(c, "CON", "Concrete & Masonry", 1.0, "bulk", (0.3, 0.42), (
            _t("{brand} {v} High-Strength Concrete Mix", 6.49, "60 lb=1; 80 lb=1.25", """
               A ready-to-mix concrete of cement, sand and gravel for setting fence and mailbox
               posts, pouring slabs, steps and footings. Just add water; it reaches walking
               strength in a day."""),
            _t("{brand} {v} Fast-Setting Concrete", 8.49, "50 lb=1", """
               A fast-setting concrete that sets in 20 to 40 minutes for fence posts, deck
               footings and basketball poles without mixing: pour the dry mix into the hole and
               add water. No wheelbarrow needed."""),
            _t("{brand} {v} Mortar Mix", 9.99, "60 lb=1; 80 lb=1.2", """
               A masonry mortar for laying brick, block and stone and for repairing crumbling
               joints in walls, chimneys and planters. Mix with water to a workable consistency
               and trowel it between masonry units; it cures to a strong, weather-resistant
               bond."""),
            _t("{brand} {v} Concrete Patching Compound", 14.99, "1 Quart=1; 1 Gallon=2.2", """
               A ready-to-use patch for filling cracks, spalls and holes in concrete driveways,
               sidewalks, steps and garage floors. Bonds to old concrete and resists
               freeze-thaw cycles."""),
        )),
        _Type(c, "INS", "Insulation & Weatherproofing", 0.7, "few", (0.3, 0.42), (
            _t("{brand} {v} Fiberglass Insulation Roll", 44.99, "R-13 15 in=1; R-30 24 in=1.6",
               """
               Fiberglass batt insulation for walls, attics and crawl spaces that keeps homes
               warmer in winter and cooler in summer and lowers energy bills. Also dampens
               sound between rooms."""),
            _t("{brand} {v} Foam Board Insulation", 24.99, "1 in x 4 ft x 8 ft=1; 2 in x 4 ft x "
               "8 ft=1.8", """
               Rigid foam insulation board for basement walls, garage doors, under slabs and
               exterior sheathing. Moisture-resistant and easy to cut with a utility knife."""),
            _t("{brand} {v} Expanding Foam Sealant", 6.99, "Gaps and Cracks 12 oz=1; Windows and "
               "Doors 12 oz=1.1", """
               Spray foam that expands to fill gaps around pipes, vents, windows and doors to
               stop drafts, insects and moisture. Trim and paint once cured. The straw
               applicator reaches deep gaps."""),
            _t("{brand} {v} Weatherstripping", 9.99, "Foam Tape 17 ft=1; Door Seal Kit=2", """
               Weatherstripping for doors and windows that seals gaps, blocks cold drafts and
               keeps out rain and bugs. Self-adhesive backing installs in minutes. Helps lower
               heating bills."""),
        )),
        _Type(c, "TRM", "Moulding & Trim", 0.6, "bulk", (0.35, 0.5), (
            _t("{v} Primed MDF Baseboard, 8 ft", 12.99, "3-1/4 in Colonial=1; 5-1/4 in Modern=1.4",
               """
               Primed baseboard moulding that covers the joint between walls and floors for a
               finished look. Ready to paint, it cuts cleanly with a miter saw. Nail it to the
               wall studs with finish nails."""),
            _t("{v} Pine Crown Moulding, 8 ft", 19.99, "3-5/8 in=1; 4-5/8 in=1.3", """
               Finger-jointed pine crown moulding to dress up the joint between walls and
               ceiling. Cut at a compound angle with a miter saw and nail with a brad nailer."""),
        )),
    )


def _electrical() -> tuple[_Type, ...]:
    c = "Electrical"
    return (
        _Type(c, "BLB", "Light Bulbs", 1.6, "consumable", (0.45, 0.6), (
            _t("{brand} {v} A19 LED Light Bulbs", 9.99, "60W Equivalent Soft White 4-Pack=1; "
               "100W Equivalent Daylight 4-Pack=1.5", """
               Energy-saving LED bulbs for lamps and ceiling fixtures that use about 85% less
               electricity and last more than 13 years. Instant on, dimmable and cool to the
               touch."""),
            _t("{brand} {v} LED Flood Light Bulbs", 14.99, "BR30 Indoor 6-Pack=1; PAR38 Outdoor "
               "2-Pack=1.2", """
               LED flood bulbs for recessed can lights, track lighting and outdoor security
               fixtures. A wide beam lights up kitchens, garages and yards with no warm-up
               time."""),
            _t("{brand} {v} Smart LED Bulb", 12.99, "Color Changing=1; Tunable White 2-Pack=1.4",
               """
               A Wi-Fi smart bulb you can dim, schedule and change color from a phone app or
               voice assistant, with no hub required. Set wake-up lighting or away-from-home
               schedules."""),
        )),
        _Type(c, "WIR", "Wire & Cable", 0.8, "few", (0.3, 0.42), (
            _t("{brand} {v} Twist-On Wire Connectors", 8.99, "Assorted 100-Pack=1; Lever-Nut "
               "25-Pack=1.6", """
               Wire connectors for joining and capping electrical wires safely inside junction
               boxes when installing light fixtures, ceiling fans, switches and outlets.
               Color-coded by size so you know which wire combinations each one holds."""),
            _t("{brand} {v} NM-B Indoor Electrical Wire", 59.99, "14/2 50 ft=1; 12/2 50 ft=1.4",
               """
               Non-metallic sheathed cable for wiring outlets, switches and lights inside
               homes. Includes a ground wire and is rated for dry locations behind walls and in
               attics."""),
            _t("{brand} {v} Low-Voltage Landscape Wire", 29.99, "16-Gauge 100 ft=1; 12-Gauge "
               "100 ft=1.8", """
               Direct-burial wire for connecting low-voltage landscape and path lights to a
               transformer. UV- and moisture-resistant jacket. Bury it a few inches deep along
               paths and flower beds to power low-voltage garden and landscape lighting safely."""),
        )),
        _Type(c, "EXT", "Extension Cords & Power Strips", 1.2, "few", (0.4, 0.55), (
            _t("{brand} {v} Outdoor Extension Cord", 24.99, "16/3 50 ft=1; 12/3 100 ft=2.6", """
               A heavy-duty outdoor extension cord for powering lawn mowers, hedge trimmers,
               leaf blowers, holiday lights and power tools away from an outlet. The
               weather-resistant jacket stays flexible in cold weather."""),
            _t("{brand} {v} Surge Protector Power Strip", 19.99,
               "6-Outlet=1; 12-Outlet with USB=1.8",
               """
               A power strip with surge protection for computers, TVs and home-office gear.
               Protects electronics from power spikes and adds outlets where you need them."""),
            _t("{brand} {v} Retractable Cord Reel", 69.99, "40 ft=1; 65 ft=1.3", """
               A wall-mounted retractable extension cord reel for the garage or workshop that
               pulls out to the length you need and winds itself back up so it is never tangled
               on the floor. Mounts to a wall or ceiling."""),
        )),
        _Type(c, "SWO", "Switches & Outlets", 1.0, "few", (0.45, 0.6), (
            _t("{brand} {v} GFCI Outlet", 17.99, "15 Amp=1; 20 Amp=1.2", """
               A ground-fault circuit interrupter outlet for kitchens, bathrooms, garages and
               outdoors that cuts power instantly if it detects a shock hazard. Self-testing,
               with a tamper-resistant face."""),
            _t("{brand} {v} Dimmer Switch", 22.99, "Single-Pole LED=1; 3-Way LED=1.3", """
               A dimmer switch that lets you set the brightness of dimmable LED and
               incandescent lights to create mood lighting and save energy. Replaces a standard
               switch."""),
            _t("{brand} {v} USB Wall Outlet", 24.99, "Type-A and Type-C=1", """
               A duplex wall outlet with built-in USB charging ports so you can charge phones
               and tablets without bulky adapters. Fits a standard wall box. Smart charging
               matches the speed each device accepts."""),
        )),
        _Type(c, "BRK", "Breakers & Load Centers", 0.6, "single", (0.3, 0.45), (
            _t("{brand} {v} Circuit Breaker", 12.99, "15 Amp Single-Pole=1; 30 Amp Double-Pole=1.9",
               """
               A plug-in circuit breaker for a residential load center that protects a circuit
               from overloads and short circuits. Replace a worn breaker that trips or add a
               new circuit."""),
            _t("{brand} {v} AFCI/GFCI Dual Function Breaker", 54.99, "15 Amp=1; 20 Amp=1.05", """
               A combination breaker that protects against both arc faults, which can start
               electrical fires, and ground faults, which can cause shocks. Required by code
               for many new kitchen and laundry circuits."""),
            _t("{brand} {v} Main Breaker Load Center", 159.99, "100 Amp 20-Space=1; 200 Amp "
               "40-Space=1.8", """
               A main breaker panel that distributes power from the utility to a home's branch
               circuits. Used for panel upgrades, new construction and subpanels in garages and
               workshops."""),
        )),
        _Type(c, "TLS", "Electrical Tools & Testers", 0.8, "single", (0.4, 0.55), (
            _t("{brand} {v} Wire Stripper", 16.99, "10-18 AWG=1; Self-Adjusting=1.6", """
               A wire stripper and cutter for removing insulation from electrical wire cleanly
               without nicking the copper. Also cuts wire and crimps terminals when installing
               outlets and fixtures."""),
            _t("{brand} {v} Non-Contact Voltage Tester", 19.99, "Pen-Style=1; Dual-Range with "
               "Flashlight=1.4", """
               A pen-sized tester that beeps and lights up near live wires, outlets and cords
               so you can confirm power is off before working. No contact with bare wires is
               needed."""),
            _t("{brand} {v} Digital Multimeter", 34.99, "Auto-Ranging=1; True RMS Clamp=2", """
               A digital multimeter that measures AC/DC voltage, current, resistance and
               continuity for troubleshooting outlets, appliances, car batteries and circuits.
               Test leads and a protective holster are included."""),
        )),
        _Type(c, "FIX", "Light Fixtures", 0.7, "single", (0.4, 0.55), (
            _t("{brand} {v} LED Flush Mount Ceiling Light", 39.99, "13 in=1; 15 in=1.3", """
               A low-profile LED ceiling light for hallways, bedrooms and closets, with a
               frosted shade and integrated LEDs that never need bulb changes. Installs in
               place of an old fixture in under an hour."""),
            _t("{brand} {v} Motion-Sensor Security Light", 49.99, "Dual-Head LED=1; Solar=0.8",
               """
               An outdoor LED flood light that turns on automatically when it senses motion,
               lighting driveways, backyards and entries and deterring intruders. Adjustable
               sensitivity and timer."""),
            _t("{brand} {v} LED Shop Light", 29.99, "4 ft Linkable=1; 4 ft 2-Pack=1.8", """
               A bright LED shop light for garages, workshops and basements. Hang it from
               chains or mount to the ceiling, and link several together from one outlet.
               Instant, flicker-free light."""),
        )),
    )


def _plumbing() -> tuple[_Type, ...]:
    c = "Plumbing"
    return (
        _Type(c, "PIP", "Pipe & Fittings", 1.4, "bulk", (0.4, 0.55), (
            _t("{v} Schedule 40 PVC Pipe, 10 ft", 8.99, "1/2 in=1; 1 in=1.7; 2 in=2.6", """
               A rigid PVC pipe for cold water lines, drains, irrigation and sprinkler systems.
               Cut with a hacksaw or pipe cutter and join with PVC primer and cement; it never
               rusts."""),
            _t("{brand} {v} PEX Tubing", 29.99, "1/2 in x 100 ft Red=1; 3/4 in x 100 ft Blue=1.6",
               """
               Flexible PEX tubing for hot and cold water supply lines. Bends around corners
               with fewer fittings than copper, resists freeze cracking and connects with crimp
               or push-to-connect fittings."""),
            _t("{brand} {v} Push-to-Connect Fitting", 7.99, "1/2 in Coupling=1; 1/2 in Tee=1.3; "
               "3/4 in Elbow=1.4", """
               A push-to-connect plumbing fitting that joins copper, PEX and CPVC pipe without
               soldering or tools: push the pipe in and it seals. Ideal for emergency repairs
               of leaking pipes."""),
            _t("{brand} {v} PVC Primer and Cement", 11.99, "8 oz Combo=1; 16 oz Combo=1.7", """
               A purple primer and solvent cement for gluing PVC pipe and fittings into
               permanent, watertight joints for drains and water lines. The primer softens the
               plastic so the cement welds pipe and fitting together; the daubers are built
               into the caps."""),
        )),
        _Type(c, "FAU", "Faucets & Showerheads", 0.8, "single", (0.35, 0.5), (
            _t("{brand} {v} Pull-Down Kitchen Faucet", 149.99, "Stainless=1; Matte Black=1.1", """
               A single-handle kitchen faucet with a pull-down sprayer for rinsing dishes and
               filling pots. Ceramic cartridge for drip-free operation; installs on one- or
               three-hole sinks."""),
            _t("{brand} {v} Bathroom Sink Faucet", 69.99, "Centerset Chrome=1; Single-Handle "
               "Brushed Nickel=1.2", """
               A bathroom faucet with a pop-up drain for replacing an old or leaky lavatory
               faucet. WaterSense flow saves water without reducing performance. Includes
               supply lines."""),
            _t("{brand} {v} High-Pressure Shower Head", 29.99, "Fixed=1; Handheld Combo=1.7", """
               A shower head with multiple spray settings that boosts pressure even in homes
               with low water pressure. Tool-free installation on a standard shower arm."""),
        )),
        _Type(c, "TLS", "Plumbing Tools", 1.0, "single", (0.4, 0.55), (
            _t("{brand} {v} Pipe Wrench", 24.99, "14 in=1; 18 in=1.4", """
               A heavy-duty pipe wrench with hardened serrated jaws for gripping and turning
               threaded steel pipe, fittings and round stock. The floating hook jaw bites
               harder as you turn."""),
            _t("{brand} {v} Toilet Plunger", 12.99, "Flange=1; Accordion High-Pressure=1.4", """
               A toilet plunger that clears clogged toilets fast with a tight seal on the
               drain. The flange shape fits the toilet outlet for stronger suction than a cup
               plunger."""),
            _t("{brand} {v} Drain Auger", 29.99, "25 ft Hand=1; 50 ft Drum=2.2", """
               A drain snake for clearing hair, grease and blockages from sink, tub and shower
               drains when a plunger will not do. Crank the cable down the drain to break up or
               pull out the clog."""),
            _t("{brand} {v} Tubing Cutter", 14.99, "Mini 5/8 in=1; 1-1/8 in=1.4", """
               A tubing cutter for clean, square cuts on copper, aluminum and brass pipe when
               repairing or extending water lines. The compact size fits into tight spaces
               between joists and walls where a hacksaw will not reach, and a built-in reamer
               deburrs the pipe."""),
        )),
        _Type(c, "TOI", "Toilet Repair", 1.0, "few", (0.45, 0.6), (
            _t("{brand} {v} Toilet Fill Valve", 11.99, "Universal=1; Quiet-Fill=1.3", """
               A replacement fill valve that stops a running toilet and refills the tank
               quickly and quietly. Adjustable height fits most toilets; installs without
               tools."""),
            _t("{brand} {v} Toilet Flapper", 6.99, "2 in=1; 3 in=1.2", """
               A replacement flapper that seals the flush valve to stop leaks and a constantly
               running toilet, saving hundreds of gallons of water a month. Fits most two-inch
               flush valves."""),
            _t("{brand} {v} Toilet Wax Ring", 5.99, "Standard=1; Reinforced with Flange=1.5", """
               A wax ring that seals the toilet to the floor drain flange to prevent leaks and
               sewer odors when installing or resetting a toilet. The plastic horn guides waste
               into the drain."""),
        )),
        _Type(c, "VAL", "Valves & Supply Lines", 0.8, "few", (0.45, 0.6), (
            _t("{brand} {v} Quarter-Turn Shut-Off Valve", 12.99, "1/2 in Compression=1; 1/2 in "
               "Push-Fit=1.3", """
               A quarter-turn stop valve for shutting off water to a sink, toilet or appliance
               so you can make repairs without turning off the whole house. Fits copper pipe."""),
            _t("{brand} {v} Braided Supply Line", 8.99, "Faucet 20 in=1; Toilet 12 in=0.9", """
               A braided stainless steel supply line that connects faucets and toilets to the
               shut-off valve. Burst-resistant and flexible for easy installation. No cutting
               or soldering required."""),
        )),
        _Type(c, "WTR", "Water Heaters & Treatment", 0.4, "single", (0.25, 0.35), (
            _t("{brand} {v} Submersible Sump Pump", 149.99, "1/3 HP=1; 1/2 HP=1.3", """
               A submersible sump pump that removes groundwater from a basement sump pit to
               keep the basement dry and prevent flooding during heavy rain. A vertical float
               switch turns it on automatically as the water rises."""),
            _t("{brand} {v} Electric Tank Water Heater", 549.99, "40 Gallon=1; 50 Gallon=1.15", """
               An electric tank water heater that supplies hot water for showers, dishwashers
               and laundry in a typical household. Replace an old, leaking or rusty tank."""),
            _t("{brand} {v} Under-Sink Water Filter", 59.99, "2-Stage=1; Reverse Osmosis=3", """
               A water filtration system that installs under the kitchen sink to reduce
               chlorine, lead and sediment for cleaner-tasting drinking and cooking water.
               Filters twist off for easy changes."""),
        )),
    )


def _garden() -> tuple[_Type, ...]:
    c = "Garden & Outdoor"
    return (
        _Type(c, "PRU", "Pruning Tools", 1.3, "single", (0.4, 0.55), (
            _t("{brand} {v} Bypass Pruning Shears", 19.99, "Standard=1; Ergonomic Rotating "
               "Handle=1.4", """
               Hand pruners with sharp bypass blades that cut cleanly through branches and
               stems up to 3/4 inch thick without crushing them. Use them to prune roses,
               shrubs, fruit trees and perennials, and to deadhead flowers; the safety lock
               keeps the blades closed."""),
            _t("{brand} {v} Bypass Loppers", 39.99, "24 in=1; 32 in Ratcheting=1.5", """
               Long-handled loppers for cutting thick branches up to 2 inches in diameter out
               of reach of hand pruners. The long handles give leverage to trim trees, clear
               overgrown shrubs and cut back brush."""),
            _t("{brand} {v} Folding Pruning Saw", 24.99, "8 in=1; 10 in=1.2", """
               A folding hand saw with a curved, razor-tooth blade for cutting tree limbs and
               thick branches when pruning and clearing trails. Folds safely into the handle
               for carrying."""),
            _t("{brand} {v} Hedge Shears", 29.99, "Wavy-Blade=1; Telescoping=1.4", """
               Manual hedge shears for shaping hedges, boxwoods and shrubs and cutting back
               ornamental grasses. The wavy blade holds branches in place for a clean cut."""),
            _t("{brand} {v} Extendable Pole Pruner", 59.99, "12 ft=1; 14 ft=1.2", """
               A telescoping pole saw and pruner that cuts high tree branches from the ground
               without a ladder. The rope-pulled cutting head snips limbs up to 1-1/4 inch."""),
        )),
        _Type(c, "MOW", "Lawn Mowers", 0.6, "single", (0.25, 0.35), (
            _t("{brand} {v} Self-Propelled Gas Lawn Mower", 429.99, "21 in=1; 22 in Rear-Wheel "
               "Drive=1.2", """
               A self-propelled gas lawn mower for medium and large lawns that moves forward on
               its own so mowing hills is easy. Mulch, bag or side-discharge the clippings."""),
            _t("{brand} {v} Cordless Electric Lawn Mower", 379.99, "40V 20 in=1; 80V 21 in=1.4",
               """
               A battery-powered lawn mower that starts with a push of a button, runs quietly
               with no gas or oil, and folds up for storage. Cuts small and medium lawns on one
               charge."""),
            _t("{brand} {v} Reel Mower", 119.99, "16 in=1; 18 in=1.2", """
               A manual push reel mower for small, flat lawns that cuts grass cleanly like
               scissors with no engine, noise or emissions. Lightweight and easy to push, it
               needs no gas, oil or charging and is gentle on grass blades for a healthier
               lawn."""),
        )),
        _Type(c, "OPE", "Outdoor Power Equipment", 0.9, "single", (0.25, 0.36), (
            _t("{brand} {v} Cordless Leaf Blower", 149.99, "40V=1; 80V Brushless=1.5", """
               A cordless leaf blower for clearing leaves, grass clippings and debris from
               lawns, driveways, decks and gutters. Variable speed control and a turbo button
               for wet, matted leaves."""),
            _t("{brand} {v} Cordless Hedge Trimmer", 129.99, "22 in=1; 26 in=1.2", """
               A battery-powered hedge trimmer for trimming and shaping hedges, bushes and
               shrubs. Dual-action blades cut branches up to 3/4 inch thick with little
               vibration."""),
            _t("{brand} {v} String Trimmer", 139.99, "40V Cordless=1; Gas 2-Cycle=1.2", """
               A string trimmer (weed eater) for cutting grass and weeds along fences, walkways
               and flower beds where a mower cannot reach, and for edging lawns. Bump-feed head
               advances line."""),
            _t("{brand} {v} Chainsaw", 199.99, "40V 16 in Cordless=1; Gas 18 in=1.4", """
               A chainsaw for cutting firewood, felling small trees and clearing storm-downed
               limbs. Automatic chain oiling and a low-kickback chain for safer cutting."""),
            _t("{brand} {v} Electric Pressure Washer", 179.99, "1800 PSI=1; 2300 PSI=1.4", """
               A pressure washer for cleaning decks, patios, siding, fences, cars and
               driveways. Quick-connect nozzles switch between a gentle spray and a powerful
               jet."""),
        )),
        _Type(c, "WAT", "Watering & Irrigation", 1.2, "few", (0.4, 0.55), (
            _t("{brand} {v} Kink-Resistant Garden Hose", 34.99, "5/8 in x 50 ft=1; 5/8 in x "
               "100 ft=1.7", """
               A flexible, kink-resistant garden hose for watering lawns, flower beds and
               vegetable gardens and for washing cars. Crush-proof brass couplings won't leak."""),
            _t("{brand} {v} Hose Nozzle", 9.99, "8-Pattern=1; Metal Fireman=1.6", """
               A spray nozzle for garden hoses with patterns from gentle shower for seedlings
               to a powerful jet for cleaning patios. Thumb control for one-handed use."""),
            _t("{brand} {v} Oscillating Lawn Sprinkler", 24.99, "Standard=1; Adjustable Range=1.4",
               """
               A sprinkler that waters lawns and gardens in a gentle back-and-forth rain,
               adjustable to cover rectangular areas. Set the width and range so you water the
               lawn and flower beds, not the driveway or sidewalk, and connect it to a hose
               timer."""),
            _t("{brand} {v} Hose Reel Cart", 69.99, "150 ft=1; 200 ft=1.3", """
               A rolling hose reel cart that stores a garden hose neatly and lets you wheel it
               to any part of the yard. Crank the handle to rewind without kinks. Includes a
               leader hose."""),
            _t("{brand} {v} Drip Irrigation Kit", 29.99, "Garden Bed=1; Container Garden=0.8", """
               A drip irrigation kit that delivers water directly to the roots of vegetables,
               shrubs and flowers, saving water and time. Connects to a hose bib or timer."""),
        )),
        _Type(c, "DIG", "Shovels, Rakes & Wheelbarrows", 0.9, "single", (0.35, 0.5), (
            _t("{brand} {v} Round-Point Shovel", 29.99, "Fiberglass Handle=1; Steel Handle=1.2",
               """
               A round-point digging shovel for planting trees and shrubs, digging holes and
               trenches and moving soil, gravel and mulch. The tempered steel blade cuts
               through roots and clay, and a cushioned D-grip or long handle reduces back
               strain."""),
            _t("{brand} {v} Leaf Rake", 19.99, "24 in Poly=1; 30 in Steel Tine=1.2", """
               A wide leaf rake for gathering leaves, grass clippings and garden debris quickly
               without tearing up the lawn. The flexible tines bounce over bumps and sweep up
               fall leaves from grass, flower beds and patios with less effort and fewer
               passes."""),
            _t("{brand} {v} Steel Wheelbarrow", 119.99, "6 cu ft=1; 8 cu ft Dual-Wheel=1.5", """
               A sturdy wheelbarrow for hauling soil, mulch, gravel, concrete and firewood
               around the yard and jobsite. Flat-free tire never needs air. Rust-resistant
               steel tray."""),
            _t("{brand} {v} Garden Hand Tool Set", 24.99, "3-Piece=1; 5-Piece with Tote=1.7", """
               A set of trowel, transplanter and cultivator for planting flowers, bulbs and
               vegetables in beds and containers and for loosening soil and weeding. Rust-proof
               heads."""),
        )),
        _Type(c, "SOI", "Soil, Mulch & Lawn Care", 1.2, "bulk", (0.35, 0.5), (
            _t("{brand} {v} Potting Mix", 9.99, "1 cu ft=1; 2 cu ft=1.8", """
               A potting soil for containers, hanging baskets and raised beds that holds water
               and feeds plants for up to six months. Light and well-drained for healthy roots."""),
            _t("{brand} {v} Shredded Bark Mulch", 4.49, "2 cu ft Brown=1; 2 cu ft Red=1", """
               A shredded wood mulch that suppresses weeds, keeps soil moist and cool and gives
               flower beds a tidy, finished look. Spread two to three inches deep around trees,
               shrubs and garden beds; it breaks down slowly and enriches the soil as it does."""),
            _t("{brand} {v} Lawn Fertilizer", 24.99, "5,000 sq ft=1; 15,000 sq ft=2.6", """
               A slow-release lawn food that greens up grass, thickens turf and strengthens
               roots. Apply with a broadcast spreader in spring and fall. Safe for all grass
               types when used as directed."""),
            _t("{brand} {v} Grass Seed", 29.99,
               "Sun and Shade Mix 7 lb=1; Dense Shade Mix 3 lb=0.6",
               """
               A grass seed mix for growing new lawns and overseeding thin, bare patches in sun
               or shade. Coated to hold moisture and sprout faster. Covers up to 2,800 square
               feet."""),
        )),
    )


def _storage() -> tuple[_Type, ...]:
    c = "Storage & Organization"
    return (
        _Type(c, "TBX", "Tool Storage", 1.0, "single", (0.3, 0.45), (
            _t("{brand} {v} Plastic Tool Box", 19.99, "19 in=1; 22 in with Organizer Lid=1.4", """
               A portable tool box with a removable tray for carrying hand tools, and lid
               organizers for screws, bits and small parts. Metal latches keep it closed in the
               truck."""),
            _t("{brand} {v} Rolling Tool Chest", 299.99, "26 in 5-Drawer=1; 41 in 9-Drawer=2", """
               A steel rolling tool cabinet with ball-bearing drawers for organizing wrenches,
               sockets and power tools in a garage or shop. Lockable, on heavy-duty casters."""),
            _t("{brand} {v} Modular Rolling Tool Box", 129.99, "3-Piece=1", """
               A stackable rolling storage system where a large wheeled bin, tool box and
               organizer lock together to move a whole kit to the jobsite in one trip.
               Water-resistant seals."""),
            _t("{brand} {v} Tool Bag", 34.99, "16 in=1; 20 in=1.3", """
               A wide-mouth tool bag with inside and outside pockets for keeping hand tools, a
               drill and fasteners together. Reinforced base stands up on wet floors."""),
        )),
        _Type(c, "SHF", "Shelving", 1.0, "single", (0.3, 0.45), (
            _t("{brand} {v} Steel Garage Shelving Unit", 89.99, "5-Tier 48 in=1; 4-Tier 72 in "
               "Wide=1.4", """
               A freestanding boltless steel shelving unit for storing bins, paint, tools and
               bulk supplies in garages, basements and sheds. Each shelf holds up to 800 lb and
               adjusts in height."""),
            _t("{brand} {v} Wire Shelving Unit", 69.99, "4-Tier=1; 6-Tier Chrome=1.5", """
               A chrome wire shelving unit for pantries, kitchens, closets and laundry rooms.
               Open wire shelves let air circulate; locking casters make it mobile. Shelves
               adjust in one-inch steps."""),
            _t("{brand} {v} Floating Wall Shelves", 29.99, "24 in 2-Pack=1; 36 in 3-Pack=1.7", """
               Wood floating shelves with hidden brackets for displaying books, plants and
               photos in living rooms, bedrooms and bathrooms. Mounting hardware and a template
               are included so the shelves go up level on drywall, and the hidden brackets hold
               books and decor securely."""),
            _t("{brand} {v} Overhead Garage Storage Rack", 149.99, "4 x 4 ft=1; 4 x 8 ft=1.4", """
               A ceiling-mounted rack that stores holiday decorations, camping gear and bins
               above the garage door, freeing up floor space. Adjustable drop height fits most
               garage ceilings, and the steel grid deck holds up to 600 lb of stored items."""),
        )),
        _Type(c, "BIN", "Storage Bins & Totes", 1.5, "few", (0.4, 0.55), (
            _t("{brand} {v} Heavy-Duty Storage Tote", 12.99, "27 Gallon=1; 40 Gallon=1.5", """
               A stackable, heavy-duty plastic storage tote with a snap-tight lid for moving,
               seasonal decorations and garage or basement storage. Resists cracking in cold
               weather."""),
            _t("{brand} {v} Clear Storage Bins", 24.99, "6 Quart 6-Pack=1; 32 Quart 4-Pack=1.8", """
               Clear plastic storage bins with latching lids so you can see what is inside at a
               glance. Great for closets, craft supplies, toys and pantry organization."""),
            _t("{brand} {v} Small Parts Organizer", 19.99, "24-Compartment=1; 39-Drawer Cabinet=2",
               """
               A small parts organizer with removable dividers for screws, nails, bolts, beads
               and electronic components. Keeps hardware sorted on the workbench. Mounts to a
               wall."""),
            _t("{brand} {v} Fabric Storage Cubes", 19.99, "6-Pack=1; 12-Pack=1.8", """
               Collapsible fabric storage cubes that fit cube shelves and hold toys, clothes
               and linens. Handles make them easy to pull out. They fold flat when not in use
               and brighten up bedrooms, playrooms, closets and living room shelving."""),
        )),
        _Type(c, "GAR", "Garage & Wall Organization", 1.0, "few", (0.4, 0.55), (
            _t("{brand} {v} Pegboard Kit", 39.99, "2 x 4 ft=1; 4 x 4 ft with Hooks=1.7", """
               A pegboard wall organizer with hooks for hanging hand tools above a workbench so
               every tool is visible and within reach. Includes an assortment of hooks, bins
               and mounting hardware to keep screwdrivers, pliers, wrenches and tape measures
               organized."""),
            _t("{brand} {v} Garage Wall Hooks", 14.99, "6-Pack=1; 12-Pack Heavy-Duty=1.8", """
               Heavy-duty wall hooks for hanging ladders, bikes, hoses, extension cords and
               yard tools off the garage floor. Vinyl-coated steel hooks protect what hangs on
               them and mount into wall studs, turning cluttered garage walls into organized
               storage space."""),
            _t("{brand} {v} Wall-Mounted Bike Rack", 24.99, "Single=1; 4-Bike=2.2", """
               A wall-mounted rack that hangs bikes vertically or horizontally to save floor
               space in garages and apartments. Rubber-coated hooks protect rims and paint, and
               the rack mounts into a wall stud to hold road, mountain and kids' bikes
               securely."""),
            _t("{brand} {v} Track Wall Storage System", 79.99, "48 in=1; 84 in Kit=1.8", """
               A wall rail and hook system for organizing garden tools, brooms, cords and
               sports gear. Hooks slide and lift off so you can rearrange as needs change."""),
        )),
        _Type(c, "CLO", "Closet Organization", 0.8, "few", (0.4, 0.55), (
            _t("{brand} {v} Closet Organizer System", 99.99, "4-6 ft=1; 5-8 ft=1.4", """
               An adjustable closet system with shelves and hanging rods to double the usable
               space in bedroom and reach-in closets. Expands to fit the closet width."""),
            _t("{brand} {v} Over-the-Door Shoe Organizer", 14.99, "24-Pocket=1; 36-Pair Rack=2", """
               An over-the-door organizer for shoes, cleaning supplies or accessories that uses
               wasted space on the back of a door. The clear pockets let you see what is
               inside, and the sturdy hooks fit most standard doors without screws or tools."""),
            _t("{brand} {v} Velvet Hangers", 19.99, "50-Pack=1; 100-Pack=1.8", """
               Slim non-slip velvet hangers that keep shirts and dresses from sliding off and
               free up closet rod space. The ultra-thin profile fits up to twice as many
               garments on a rod, and the swivel hook makes hanging clothes from either side
               easy."""),
        )),
        _Type(c, "WKB", "Workbenches", 0.4, "single", (0.3, 0.42), (
            _t("{brand} {v} Adjustable Workbench", 199.99, "4 ft=1; 6 ft with Pegboard=1.5", """
               A steel workbench with a wood top for woodworking, repairs and hobby projects in
               the garage. Adjustable height and built-in power outlets. Holds up to 1,500 lb."""),
            _t("{brand} {v} Folding Work Table", 79.99, "Portable=1", """
               A portable folding work table with built-in clamps for holding boards while you
               saw, sand and assemble, then folds flat to hang on a wall. Sets up in seconds on
               any jobsite."""),
        )),
    )


# ---------------------------------------------------------------- building the catalogue
@dataclass(frozen=True)
class _Spec:
    """A product before SKUs are assigned: which template, variant, brand and product line."""

    type_index: int
    kind: _Type
    template: _Template
    variant: int
    brand: str
    series: tuple[str, float, str] | None
    model: str | None
    weight: float  # raw popularity before per-type normalisation
    price_cents: int
    cost_cents: int
    detail: int = 0  # extension products: which look x audience x standing (< DETAILS)


def product_types() -> tuple[tuple[str, str], ...]:
    """(category, product type) for every type of the catalogue, in catalogue order."""
    return tuple((t.category, t.name) for t in _types())


def curated_size() -> int:
    """How many products the hand-written templates and their variants make."""
    return sum(len(tpl.variants) for t in _types() for tpl in t.templates)


def _rng(label: str) -> random.Random:
    """A seeded generator for demo data (not for anything secret)."""
    return random.Random(label)  # noqa: S311  # reproducible demo data, not cryptography


def build_catalogue(seed: int, count: int = CURATED_COUNT_HINT) -> list[CatalogueProduct]:
    """The catalogue of `count` products for `seed`, deterministic for (seed, count).

    Up to the curated size the products come from the hand-written templates (when fewer are
    asked for, later variants are dropped first so every template keeps one product). Beyond
    it, brand x series x model variants of the same templates are appended; the curated
    products are identical whatever the count, so `--products N` extends the default catalogue
    rather than replacing it.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a positive integer, got {count!r}")
    types = _types()
    curated = _curated_specs(types, _rng(f"zava-catalogue:{seed}:curated"))
    if count <= len(curated):
        chosen = _trim(curated, count)
    else:
        extra = _extended_specs(types, curated, _rng(f"zava-catalogue:{seed}:extended"),
                                _rng(f"zava-catalogue:{seed}:details"))
        chosen = curated + [next(extra) for _ in range(count - len(curated))]
    return _finish(chosen, curated)


def _curated_specs(types: tuple[_Type, ...], rng: random.Random) -> list[_Spec]:
    specs: list[_Spec] = []
    for ti, kind in enumerate(types):
        for tpl in kind.templates:
            brand = rng.choice(BRANDS[kind.category])
            for vi in range(len(tpl.variants)):
                # The first variant of a template tends to be the volume seller.
                weight = rng.lognormvariate(0.0, 0.75) * (1.4 if vi == 0 else 1.0)
                specs.append(_priced(rng, ti, kind, tpl, vi, brand, None, None, weight))
    return specs


def _trim(curated: list[_Spec], count: int) -> list[_Spec]:
    """Keep `count` products, dropping later variants first and spreading what is kept over
    every category and type (so even a tiny catalogue covers all categories); catalogue order
    is kept."""
    templates_seen: dict[int, list[int]] = {}
    types_seen: dict[str, list[int]] = {}
    keys: list[tuple[int, int, int, int, int]] = []
    for i, spec in enumerate(curated):
        in_type = templates_seen.setdefault(spec.type_index, [])
        if id(spec.template) not in in_type:
            in_type.append(id(spec.template))
        in_category = types_seen.setdefault(spec.kind.category, [])
        if spec.type_index not in in_category:
            in_category.append(spec.type_index)
        keys.append((spec.variant, in_type.index(id(spec.template)),
                     in_category.index(spec.type_index), CATEGORIES.index(spec.kind.category), i))
    keep = {key[-1] for key in sorted(keys)[:count]}
    return [spec for i, spec in enumerate(curated) if i in keep]


def _extended_specs(
    types: tuple[_Type, ...], curated: list[_Spec], rng: random.Random,
    details_rng: random.Random,
) -> Iterator[_Spec]:
    """Endless deterministic stream of extra products: round r gives every template variant a
    new brand/series combination (and a model number once the combinations run out).

    Each product also gets a detail (look x audience x standing, see LOOKS): the products of a
    template that share a series take the template's details in its own seeded order, one per
    product, so no two products of a template share a first sentence until one series has
    had DETAILS of them (with at most 3 variants a template: 128 rounds per series, 1,280
    rounds, over 500,000 products). `details_rng` only shuffles those orders; prices and
    weights come from `rng` alone, as before details existed."""
    brand_of = {id(s.template): s.brand for s in curated}
    orders: dict[int, list[int]] = {}  # template -> its details in seeded order
    uses: dict[tuple[int, str], int] = {}  # (template, series) -> products so far
    # Interleave templates across types so a partial round still covers every category.
    order = sorted(
        ((pos, ti, kind, tpl) for ti, kind in enumerate(types)
         for pos, tpl in enumerate(kind.templates)),
        key=lambda item: (item[0], item[1]),
    )
    rnd = 0
    while True:
        rnd += 1
        for _pos, ti, kind, tpl in order:
            pool = BRANDS[kind.category]
            branded = "{brand}" in tpl.name
            if branded:
                base = pool.index(brand_of[id(tpl)])
                brand = pool[(base + rnd) % len(pool)]
                series = SERIES[((rnd - 1) // len(pool)) % len(SERIES)]
                combos = len(pool) * len(SERIES)
            else:
                brand = ""
                series = SERIES[(rnd - 1) % len(SERIES)]
                combos = len(SERIES)
            details = orders.get(id(tpl))
            if details is None:
                details = orders[id(tpl)] = list(range(DETAILS))
                details_rng.shuffle(details)
            for vi in range(len(tpl.variants)):
                model = f"{kind.code}-{rnd:03d}{vi}" if rnd > combos else None
                weight = rng.lognormvariate(0.0, 0.75)
                spec = _priced(rng, ti, kind, tpl, vi, brand, series, model, weight)
                used = uses.get((id(tpl), series[0]), 0)
                uses[id(tpl), series[0]] = used + 1
                yield replace(spec, detail=details[used % DETAILS])


def _priced(
    rng: random.Random, ti: int, kind: _Type, tpl: _Template, vi: int, brand: str,
    series: tuple[str, float, str] | None, model: str | None, weight: float,
) -> _Spec:
    """Attach a shelf price and a cost with the type's margin range to a product spec."""
    mult = tpl.variants[vi][1] * (series[1] if series else 1.0)
    price = shelf_price(tpl.price * 100 * mult * rng.uniform(0.93, 1.07))
    margin = rng.uniform(*kind.margin)
    cost = max(1, min(price - 1, round(price * (1 - margin))))
    return _Spec(ti, kind, tpl, vi, brand, series, model, weight, price, cost)


def shelf_price(cents: float) -> int:
    """Round a raw price to how stores label it: $4.79, $24.99, $249.99."""
    if cents < 1_000:
        return max(99, round(cents / 10) * 10 - 1)
    if cents < 20_000:
        return round(cents / 100) * 100 - 1
    return round(cents / 1_000) * 1_000 - 1


def _finish(specs: list[_Spec], curated: list[_Spec]) -> list[CatalogueProduct]:
    """Render names and descriptions, number SKUs per type and normalise popularity.

    Each type keeps its share of its category however many variants it has: the curated
    products of a type share its popularity (normalised over the whole curated set, so a
    curated product's weight does not depend on the count), and the extension products of the
    type share as much again between them: a long tail as large as the head.
    """
    head: dict[int, float] = {}
    for spec in curated:
        head[spec.type_index] = head.get(spec.type_index, 0.0) + spec.weight
    tail: dict[int, float] = {}
    for spec in specs:
        if spec.series is not None:
            tail[spec.type_index] = tail.get(spec.type_index, 0.0) + spec.weight
    counters: dict[int, int] = {}
    seen: set[str] = set()
    products: list[CatalogueProduct] = []
    for spec in specs:
        kind = spec.kind
        counters[spec.type_index] = counters.get(spec.type_index, 0) + 1
        sku = f"{CATEGORY_CODES[kind.category]}-{kind.code}-{counters[spec.type_index]:04d}"
        name = _render_name(spec)
        if name in seen:  # safety net; the enumeration is designed not to collide
            name = f"{name} ({sku})"
        seen.add(name)
        total = head if spec.series is None else tail
        products.append(CatalogueProduct(
            sku=sku,
            name=name,
            description=_render_description(spec),
            category=kind.category,
            product_type=kind.name,
            cost_cents=spec.cost_cents,
            price_cents=spec.price_cents,
            popularity=kind.popularity * spec.weight / total[spec.type_index],
            quantity_profile=kind.quantity,
        ))
    return products


def _render_name(spec: _Spec) -> str:
    label = spec.template.variants[spec.variant][0]
    if spec.series is None:
        brand = spec.brand
        name = spec.template.name.format(brand=brand, v=label)
    elif "{brand}" in spec.template.name:
        name = spec.template.name.format(brand=f"{spec.brand} {spec.series[0]}", v=label)
    else:
        name = f"{spec.series[0]} " + spec.template.name.format(brand="", v=label)
    if spec.model:
        name = f"{name}, Model {spec.model}"
    return " ".join(name.split())


def _render_description(spec: _Spec) -> str:
    label = spec.template.variants[spec.variant][0]
    text = spec.template.description.replace("{v}", label).replace("  ", " ")
    if spec.series is None:
        return text
    # an extension product: its own first sentence, then the template's other sentences, its
    # product line and its brand
    category = spec.kind.category
    detail, standing = divmod(spec.detail, len(STANDINGS))
    look, audience = divmod(detail, len(AUDIENCES[category]))
    first, rest = _first_sentence(text)
    end = first[-1] if first[-1] in ".!?" else "."
    first = (f"{first.rstrip('.!?')}, {LOOKS[category][look]}, from the {spec.series[0]} line,"
             f" {AUDIENCES[category][audience]} and {STANDINGS[standing]}{end}")
    parts = (first, rest, spec.series[2], BRAND_NOTES[spec.brand] if spec.brand else "")
    return " ".join(part for part in parts if part)


_SENTENCE_END = re.compile(r"[.!?](?=\s+[A-Z0-9])")  # as search splits it (embedding_index)


def _first_sentence(text: str) -> tuple[str, str]:
    """(the first sentence with its full stop, the rest)."""
    match = _SENTENCE_END.search(text)
    if match is None:
        return text, ""
    return text[:match.end()], text[match.end():].strip()
