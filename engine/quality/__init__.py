"""Quality and adherence: measures defined as data (measures.py), computed in SQL from the event log and the
case state (episodes.py, compute.py), per-case adherence (adherence.py) and the pathway heat map (heatmap.py)."""
