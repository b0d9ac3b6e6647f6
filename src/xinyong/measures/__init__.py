"""Joint rewards and punishments (联合奖惩) and the credit check (信用核查).

The measure catalogue (`data/measures.yaml`) says which measure applies to whom, in which scenario, on which
legal basis (DOMAIN §7: three classes). `service.check` answers a business system's question "which measures
apply to this subject now?"; units report back whether they applied them (`feedback`), and the credit office
sees the counts (`statistics`). Allowed imports: measures → lists, archive, accounts.
"""
