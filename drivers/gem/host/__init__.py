"""The GEM host (SEMI E30) on the HSMS-SS link: every host-side GEM exchange, typed.

`GemHost` speaks E30 to one equipment over an `HsmsLink` (`drivers/secs/hsms.py`): it sends
the host's primary messages and turns their replies into Python values or errors (reading them
with `replies.py`), and it answers what the equipment pushes (S1F1, S1F13, S5F1 alarms, S6F1
trace data, S6F11 collection events, S10F1 terminal messages; `pushed.py`), handing alarms,
trace reports and events to whoever listens. It knows no tool kind: which SVID, ECID, CEID,
ALID or RCMD means what is the tool dictionary's business (`drivers/gem/dictionary.py`, used
by the GEM role drivers, `drivers/gem/equipment.py`).

Every call is one transaction and ends within the link's T3 (`ToolTimeout`); a reply of the
wrong shape is a `ProtocolError` naming the message; an S9 error from the equipment fails the
transaction it names with a `ProtocolError` (the link does that); an acknowledge code that
refuses (EAC, DRACK, LRACK, ERACK, HCACK, ACKC7, ...) is a `CommandRefused` whose code is
`<name> <value>` and whose detail says what the code means. IDs go on the wire in the format
given at construction (U4 by default, as most tools use); ASCII ids are sent as `A` items.

The parts: the session with its link, id format and listeners (`session.py`), and one module
per group of messages, each a `HostSession`: `status` (S1), `constants` (ECs and the clock),
`data_collection` (event reports and traces), `remote_commands`, `alarms`, `programs` (S7),
`process_jobs` (E40, S16) and `terminal` (S10).
"""

from .alarms import AlarmMessages
from .constants import ConstantMessages
from .data_collection import DataCollectionMessages
from .process_jobs import ProcessJobMessages
from .programs import ProcessProgramMessages
from .remote_commands import RemoteCommandMessages
from .status import StatusMessages
from .terminal import TerminalMessages


class GemHost(
    StatusMessages,
    ConstantMessages,
    DataCollectionMessages,
    RemoteCommandMessages,
    AlarmMessages,
    ProcessProgramMessages,
    ProcessJobMessages,
    TerminalMessages,
):
    """The host side of one GEM session: every group of E30's host messages over one link."""
