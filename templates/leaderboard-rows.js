{% import "leaderboard-row.html" as leaderboard %}
// effbench: the leaderboard rows after the first ones of index.html, one string of rows per tier (in the
// order of the table's tbody elements; "" for a tier shown whole), loaded by static/leaderboard.js.
effbenchLeaderboardRows([
{% for group in ctx.groups %}
{% set rows_html %}{% for row in group.later %}{{ leaderboard.model_row(row, "m" ~ loop.index ~ "-" ~ row.rank, ctx.has_flash) }}{% endfor %}{% endset %}
{{ rows_html | tojson }}{{ "," if not loop.last }}
{% endfor %}
]);
