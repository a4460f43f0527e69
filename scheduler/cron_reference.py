#!/usr/bin/python3
"""Independent reference for scheduler/cron.c: next fire times of cron expressions.

Standard library only (zoneinfo, datetime). It shares nothing with the C code but the
documented semantics of scheduler/cron.h, and computes them the slow, obvious way: it walks
the local wall clock day by day, then minute by minute (second by second for 6-field
expressions), asks zoneinfo whether each matching wall time exists once, twice or not at
all, and applies the DST rules:
  - a wall time that exists once fires at that instant;
  - one that exists twice fires at the first instant, and also at the second one when the
    job is a wildcard job (minute or hour field starts with '*');
  - one that does not exist (skipped by a forward jump) fires, for fixed-time jobs only,
    at the first instant whose wall time is past it (found by bisection);
  - a schedule fires at most once per instant; @every N fires at multiples of N since the
    epoch.

Input (file argument or stdin), one case per line, tab-separated:
    ZONE  START  COUNT  EXPRESSION          (START in seconds since the epoch)
Output, one line per case: the COUNT fire times (seconds since the epoch, strictly after
START, ascending) separated by spaces, or "error" when the expression is invalid.
"""
import datetime as dt
import sys
import zoneinfo

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1)

MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
SHORTCUTS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


class Invalid(Exception):
    pass


def value(text, low, high, names):
    if text.isdigit():
        v = int(text)
    elif names and text.upper() in names:
        v = names.index(text.upper()) + low
    else:
        raise Invalid(text)
    if not low <= v <= high:
        raise Invalid(text)
    return v


def field(text, low, high, names=None):
    """The set of values of one field."""
    out = set()
    for part in text.split(","):
        step, stepped = 1, "/" in part
        if stepped:
            part, s = part.split("/", 1)
            if not s.isdigit() or not 1 <= int(s) <= high - low + 1:
                raise Invalid(s)
            step = int(s)
        if part == "*":
            first, last = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            first, last = value(a, low, high, names), value(b, low, high, names)
            if first > last:
                raise Invalid(part)
        else:
            first = value(part, low, high, names)
            last = high if stepped else first
        out.update(range(first, last + 1, step))
    return out


def parse(expr):
    expr = expr.strip()
    words = expr.split(None, 1)
    if words and words[0].lower() == "@every":
        rest = words[1] if len(words) > 1 else ""
        total, units = 0, "dhms"
        number, last_unit = "", -1
        for ch in rest:
            if ch.isdigit():
                number += ch
                continue
            if not number or ch not in units or units.index(ch) <= last_unit:
                raise Invalid(rest)
            last_unit = units.index(ch)
            total += int(number) * {"d": 86400, "h": 3600, "m": 60, "s": 1}[ch]
            number = ""
        if number or not 1 <= total <= 366 * 86400:
            raise Invalid(rest)
        return {"every": total}
    if expr.startswith("@"):
        if expr.lower() not in SHORTCUTS:
            raise Invalid(expr)
        expr = SHORTCUTS[expr.lower()]
    parts = expr.split()
    if len(parts) == 5:
        parts = ["0"] + parts
    elif len(parts) != 6:
        raise Invalid(expr)
    sec, minute, hour, dom, month, dow = parts
    days = field(dow, 0, 7, DAYS)
    if 7 in days:
        days = (days - {7}) | {0}
    return {
        "second": field(sec, 0, 59), "minute": field(minute, 0, 59), "hour": field(hour, 0, 23),
        "dom": field(dom, 1, 31), "month": field(month, 1, 12, MONTHS), "dow": days,
        "dom_star": dom.startswith("*"), "dow_star": dow.startswith("*"),
        "wild": minute.startswith("*") or hour.startswith("*"),
    }


def day_matches(e, day):
    if day.month not in e["month"]:
        return False
    dom = day.day in e["dom"]
    dow = (day.weekday() + 1) % 7 in e["dow"]
    if e["dom_star"] or e["dow_star"]:
        return dom and dow
    return dom or dow


def local_of(u, zone):
    return dt.datetime.fromtimestamp(u, zone).replace(tzinfo=None)


def instants(wall, zone, wild):
    """The instants a matching wall time fires at (the DST rules above)."""
    a = int(wall.replace(tzinfo=zone, fold=0).timestamp())
    b = int(wall.replace(tzinfo=zone, fold=1).timestamp())
    exists = [u for u in sorted({a, b}) if local_of(u, zone) == wall]
    if len(exists) == 2:
        return exists if wild else exists[:1]
    if len(exists) == 1:
        return exists
    if wild:
        return []
    lo, hi = min(a, b), max(a, b)  # local(lo) < wall < local(hi): bisect the jump
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        if local_of(mid, zone) > wall:
            hi = mid
        else:
            lo = mid
    return [hi]


def next_fires(expr, zone_name, start, count):
    e = parse(expr)
    if "every" in e:
        n = e["every"]
        return [(start // n + 1 + i) * n for i in range(count)]
    zone = UTC if zone_name == "UTC" else zoneinfo.ZoneInfo(zone_name)
    found, bound = set(), {}
    day = local_of(start, zone).date() - dt.timedelta(days=2)
    limit = day + dt.timedelta(days=366 * 30)
    while day < limit:
        if day_matches(e, day):
            for minute_of_day in range(1440):  # minute by minute
                h, m = divmod(minute_of_day, 60)
                if h not in e["hour"] or m not in e["minute"]:
                    continue
                for s in range(60):  # second by second (5 fields: only second 0 matches)
                    if s not in e["second"]:
                        continue
                    wall = dt.datetime(day.year, day.month, day.day, h, m, s)
                    for u in instants(wall, zone, e["wild"]):
                        if u > start:
                            found.add(u)
                    if len(found) >= count:
                        kth = sorted(found)[count - 1]
                        # Every later wall time fires at or after wall - (largest offset
                        # nearby); stop once that is past the count-th fire.
                        if kth not in bound:
                            bound[kth] = max(zone.utcoffset(local_of(kth + k * 3600, zone))
                                             for k in range(-30, 31)).total_seconds()
                        if (wall - EPOCH).total_seconds() - bound[kth] > kth:
                            return sorted(found)[:count]
        day += dt.timedelta(days=1)
    if not found:
        raise Invalid(expr)  # can never fire: cron.h says such expressions are refused
    return sorted(found)[:count]


def main():
    source = open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin
    for line in source:
        line = line.rstrip("\n")
        if not line:
            continue
        zone, start, count, expr = line.split("\t", 3)
        try:
            fires = next_fires(expr, zone, int(start), int(count))
            print(" ".join(str(u) for u in fires))
        except Invalid:
            print("error")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
