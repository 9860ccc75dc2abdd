"""SECS-II data items both ends of a GEM conversation share (SEMI E5 section 9.6): what each
acknowledge code means, the ALCD's set bit, the TIME format, a trace's sample period (DSPER)
and E40's process job states.

Read by the GEM host driver (`drivers/gem/host/`) and by the simulated GEM equipment alike,
so the meaning of a code is stated once.
"""

from __future__ import annotations

import datetime as dt

#: What each acknowledge code of E5 means, by its data item name; 0 is always success.
ACK_CODES: dict[str, dict[int, str]] = {
    "COMMACK": {1: "denied, try again"},
    "ONLACK": {1: "online not allowed", 2: "equipment already online"},
    "OFLACK": {},
    "EAC": {
        1: "at least one constant does not exist",
        2: "busy",
        3: "at least one constant out of range",
    },
    "DRACK": {
        1: "insufficient space",
        2: "invalid format",
        3: "at least one RPTID already defined",
        4: "at least one VID does not exist",
    },
    "LRACK": {
        1: "insufficient space",
        2: "invalid format",
        3: "at least one CEID link already defined",
        4: "at least one CEID does not exist",
        5: "at least one RPTID does not exist",
    },
    "ERACK": {1: "at least one CEID does not exist"},
    "ACKC5": {1: "error, not accepted"},
    "ACKC6": {1: "error, not accepted"},
    "ACKC7": {
        1: "permission not granted",
        2: "length error",
        3: "matrix overflow",
        4: "PPID not found",
        5: "mode unsupported",
        6: "performed later",
        7: "storage limit error",
    },
    "ACKC10": {1: "message will not be displayed", 2: "terminal not available"},
    "TIACK": {1: "not done"},
    "TIAACK": {
        1: "too many SVIDs",
        2: "no more traces allowed",
        3: "invalid period",
        4: "unknown SVID",
        5: "invalid REPGSZ",
    },
    "HCACK": {
        1: "invalid command",
        2: "cannot perform now",
        3: "at least one parameter invalid",
        4: "acknowledged, completion signalled later by an event",
        5: "rejected, already in the desired condition",
        6: "no such object exists",
    },
    "CPACK": {1: "parameter name does not exist", 2: "illegal value", 3: "illegal format"},
    # E5 ERRCODE, as E40 process jobs (S16) refuse: the codes packline's equipment sends
    "ERRCODE": {
        3: "unknown object instance",
        7: "invalid attribute value",
        11: "object identifier in use",
        12: "parameters improperly specified",
        14: "unsupported option requested",
        15: "busy",
        17: "command not valid for current state",
        21: "recipe specification related error",
    },
}

#: E40 process job states (PRJOBSTATE), by value; 4, 10 and 11 end a job.
PRJOB_STATES: dict[int, str] = {
    0: "queued",
    1: "setting up",
    2: "waiting for start",
    3: "processing",
    4: "process complete",
    6: "pausing",
    7: "paused",
    8: "stopping",
    9: "aborting",
    10: "stopped",
    11: "aborted",
}
#: The PRJOBSTATEs a job ends in.
PRJOB_ENDED = (4, 10, 11)
#: E40's material format MF of substrates (a job's material is a list of their MIDs).
MF_SUBSTRATES = 14

#: HCACK codes that accept a remote command: 0 done, 4 will be done (an event tells when).
HCACK_ACCEPTED = (0, 4)
#: HCACK 5: the equipment is already where the command would take it (a safe state reached).
HCACK_ALREADY = 5

#: ALCD bit 8: the alarm is set (the lower bits are its category).
ALARM_SET = 0x80

#: The 16-character TIME of E5 (YYYYMMDDhhmmsscc, cc in hundredths); 12-character tools
#: (YYMMDDhhmmss) are read too.
TIME_FORMAT_16 = "%Y%m%d%H%M%S"


def format_period(seconds: float) -> str:
    """`seconds` as the 8-character E5 DSPER (hhmmsscc, cc in hundredths), the period of a
    trace's samples; ValueError for a period DSPER cannot say (below 0.01 s, 100 h or more)."""
    hundredths = round(seconds * 100)
    if not 1 <= hundredths < 100 * 3600 * 100:
        raise ValueError(f"a sample period must be 0.01 s up to 100 h, got {seconds!r} s")
    whole, cc = divmod(hundredths, 100)
    return f"{whole // 3600:02d}{whole // 60 % 60:02d}{whole % 60:02d}{cc:02d}"


def parse_period(text: str) -> float:
    """An E5 DSPER (hhmmss or hhmmsscc) in seconds; ValueError if it is neither."""
    if len(text) not in (6, 8) or not text.isdigit():
        raise ValueError(f"DSPER {text!r} is neither hhmmss nor hhmmsscc")
    hours, minutes, seconds = int(text[:2]), int(text[2:4]), int(text[4:6])
    if minutes > 59 or seconds > 59:
        raise ValueError(f"DSPER {text!r}: minutes and seconds go up to 59")
    return hours * 3600 + minutes * 60 + seconds + int(text[6:] or 0) / 100


def ack_text(name: str, code: int) -> str:
    """What acknowledge `name` = `code` means (`unknown code` for one E5 does not define)."""
    return ACK_CODES[name].get(code, "unknown code")


def parse_time(text: str) -> dt.datetime:
    """An E5 TIME (16 or 12 characters) as a naive datetime; ValueError if it is not one."""
    if len(text) == 16 and text.isdigit():
        moment = dt.datetime.strptime(text[:14], TIME_FORMAT_16)
        return moment.replace(microsecond=int(text[14:]) * 10_000)
    if len(text) == 12 and text.isdigit():
        return dt.datetime.strptime(text, "%y%m%d%H%M%S")
    raise ValueError(f"TIME {text!r} is neither YYYYMMDDhhmmsscc nor YYMMDDhhmmss")


def format_time(moment: dt.datetime) -> str:
    """`moment` as the 16-character E5 TIME."""
    return moment.strftime(TIME_FORMAT_16) + f"{moment.microsecond // 10_000:02d}"
