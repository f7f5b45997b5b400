"""The management dashboard's figures: queries, department names by snapshot, statistics, tables and CSV
export.

May use: models and the flows root.
"""
