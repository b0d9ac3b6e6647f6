"""Data quality (数据质量): per department × info class × month metrics, dashboards and the monthly notice (通报)."""
