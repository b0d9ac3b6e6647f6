"""Every domain's models in one metadata (Alembic, tests), imported explicitly, not as a side effect."""

from __future__ import annotations

from xinyong.core.db import Base


def load_models() -> type[Base]:
    from xinyong.accounts import models as _accounts  # noqa: F401
    from xinyong.archive import models as _archive  # noqa: F401
    from xinyong.collection import models as _collection  # noqa: F401
    from xinyong.commitments import models as _commitments  # noqa: F401
    from xinyong.core import audit as _audit  # noqa: F401
    from xinyong.core import workflow as _workflow  # noqa: F401
    from xinyong.evaluation import models as _evaluation  # noqa: F401
    from xinyong.lists import models as _lists  # noqa: F401
    from xinyong.measures import models as _measures  # noqa: F401
    from xinyong.notices import models as _notices  # noqa: F401
    from xinyong.objections import models as _objections  # noqa: F401
    from xinyong.repair import models as _repair  # noqa: F401
    from xinyong.reports import models as _reports  # noqa: F401
    from xinyong.subscriptions import models as _subscriptions  # noqa: F401
    from xinyong.supervision import models as _supervision  # noqa: F401

    return Base
