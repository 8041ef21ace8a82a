"""Every sentence podwall says about policies and verdicts lives in this package, so the wording
stays one.

One module per verb or kind of output: verdicts (`check`, `explain`: rules, peers, ports and the
line for each direction, quoted by the other verbs), pictures (`graph`, `report`), diff, lint,
summaries (of large outputs), audit, groups (Services and controllers), exposure, and names
(how endpoint names are listed, and the mark of an implied one).

Callers write `wording.direction_line(...)` whatever module a sentence lives in: the modules
are star-imported here, so a new sentence is added in one place, its module. mypy sees only
each module's own definitions through a star import, so `wording.X` is still checked.
"""

from podwall.analysis.wording.audit import *  # noqa: F403
from podwall.analysis.wording.diff import *  # noqa: F403
from podwall.analysis.wording.exposure import *  # noqa: F403
from podwall.analysis.wording.groups import *  # noqa: F403
from podwall.analysis.wording.lint import *  # noqa: F403
from podwall.analysis.wording.names import *  # noqa: F403
from podwall.analysis.wording.pictures import *  # noqa: F403
from podwall.analysis.wording.summaries import *  # noqa: F403
from podwall.analysis.wording.verdicts import *  # noqa: F403
from podwall.model.words import plural as plural  # the one plural rule (podwall.model.words)
