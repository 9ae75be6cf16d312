"""effbench: honest, efficient language-model leaderboards.

Load evaluation results into a DuckDB file, compute how certain the ranking is, and publish a
static leaderboard. The stages are modules: `load` -> `store` -> `stats` -> `render`; `pipeline`
runs them in order and `cli` is the command line over `pipeline`.
"""

__version__ = "0.1.0"
