"""The whole schema in one import: every package's models registered on the one `Base`."""

from __future__ import annotations

from sqlalchemy import MetaData

from control import models as control_models
from control.db import Base
from hearing import models as hearing_models
from recorder import models as recorder_models

MODEL_MODULES = (control_models, recorder_models, hearing_models)
metadata: MetaData = Base.metadata
