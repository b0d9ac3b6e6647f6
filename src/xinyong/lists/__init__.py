"""Serious-dishonesty lists (严重失信主体名单) and incentive lists (守信激励名单).

A dishonesty list entry is reached only through the statutory procedure of 国办发〔2020〕49号 part 四
(告知 → 陈述申辩/异议 → 决定 → 公示 → 移出), never by counting offences. List types are data
(`data/list_types.yaml`); the procedure is a state machine (`rules.py`); `service.py` has one function per
step. Allowed imports: lists → archive (subjects), accounts (departments), quality.workdays (pure calendar).
"""
