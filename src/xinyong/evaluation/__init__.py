"""Public credit comprehensive evaluation (公共信用综合评价): models that grade subjects A/B/C/D from archive facts.

Models are data (`data/*_model.yaml`, validated by `rules.py`): a general model and industry models that overlay
its weights and cut-offs for their industries (通用＋专用). `service.evaluate` scores every subject in one pass.
Allowed imports: evaluation → archive (subjects, credit records), lists (list types, in-force rule).
"""
