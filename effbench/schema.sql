-- effbench's database schema. Idempotent: safe to run on a database that already has it.
-- Users query these tables and views directly; their names and columns are a stable interface.

CREATE TABLE IF NOT EXISTS effbench_meta (key VARCHAR, value VARCHAR);
COMMENT ON TABLE effbench_meta IS 'effbench''s own bookkeeping, one key and value per row: schema_version is the version of this schema the file was last written with (effbench migrates older files on opening); site_title is the title the last build was given (a plain rebuild and effbench init keep it).';

CREATE TABLE IF NOT EXISTS sources (
    source_id INTEGER NOT NULL,
    path VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    rows BIGINT NOT NULL,
    loaded_at TIMESTAMPTZ NOT NULL,
    options JSON,
    credit VARCHAR,
    license VARCHAR
);
ALTER TABLE sources ADD COLUMN IF NOT EXISTS format VARCHAR;
COMMENT ON TABLE sources IS 'One row per loaded file: where it came from, its sha256, how many rows it gave and when. kind: long (per-item results), wide (per-scenario results, no items) or models (metadata). format: the harness format it was read as (table for plain result tables; helm, lm-eval, inspect, ...), whose choices (metric, keys) are in options.';

CREATE TABLE IF NOT EXISTS models (model VARCHAR NOT NULL);
COMMENT ON TABLE models IS 'One row per model; metadata files add their columns here (organisation, parameters, release date, ...).';

CREATE TABLE IF NOT EXISTS scenarios (
    scenario VARCHAR NOT NULL,
    level VARCHAR NOT NULL,
    n_items BIGINT NOT NULL,
    n_models BIGINT NOT NULL
);
ALTER TABLE scenarios ADD COLUMN IF NOT EXISTS metric VARCHAR;
ALTER TABLE scenarios ADD COLUMN IF NOT EXISTS higher_is_better BOOLEAN;
ALTER TABLE scenarios ADD COLUMN IF NOT EXISTS tags VARCHAR;
ALTER TABLE scenarios ADD COLUMN IF NOT EXISTS description VARCHAR;
ALTER TABLE scenarios ADD COLUMN IF NOT EXISTS title VARCHAR;
COMMENT ON TABLE scenarios IS 'One row per scenario. level = item (per-item results, resampled by the bootstrap) or scenario (one score per model, no items). n_items: distinct items; n_models: models with a score. metric, higher_is_better, tags, description, title: what the harness files say about it (NULL when loaded from a plain table); title is the name the site shows (e.g. HELM''s run group display name "BBQ" for bbq:subject=all,method=multiple_choice_joint).';

CREATE TABLE IF NOT EXISTS scenario_directions (scenario VARCHAR NOT NULL, higher_is_better BOOLEAN NOT NULL);
COMMENT ON TABLE scenario_directions IS 'Directions the user declared (effbench build --lower-is-better SCENARIO, or [ranking] lower_is_better in effbench.toml); they override what harness files say, in scenarios.higher_is_better. A lower-is-better scenario is ranked on its negated scores.';

CREATE TABLE IF NOT EXISTS scenario_metadata (
    scenario VARCHAR NOT NULL,
    metric VARCHAR,
    higher_is_better BOOLEAN,
    tags VARCHAR,
    description VARCHAR,
    source_id INTEGER NOT NULL
);
ALTER TABLE scenario_metadata ADD COLUMN IF NOT EXISTS title VARCHAR;
COMMENT ON TABLE scenario_metadata IS 'What each loaded harness source says about a scenario: the metric taken, whether higher is better (NULL = not said), tags (comma-separated, e.g. HELM run groups), a description and a title to show. The scenarios table shows the latest source''s value of each.';

CREATE TABLE IF NOT EXISTS scores (
    model VARCHAR NOT NULL,
    scenario VARCHAR NOT NULL,
    item_id VARCHAR,
    score DOUBLE,
    source_id INTEGER NOT NULL
);
COMMENT ON TABLE scores IS 'One row per model x scenario x item (x prompt or seed, where the data has them). score NULL = not evaluated, never 0. item_id NULL = a scenario-level result from a wide table. run, metric, file: provenance where the source says. Other columns of the loaded files are kept in the JSON column extra.';
COMMENT ON COLUMN scores.score IS 'The item''s score (e.g. 1 correct, 0 wrong, or pass@1); NULL means not evaluated.';
COMMENT ON COLUMN scores.source_id IS 'The sources row this result was loaded from.';
ALTER TABLE scores ADD COLUMN IF NOT EXISTS run VARCHAR;
ALTER TABLE scores ADD COLUMN IF NOT EXISTS metric VARCHAR;
ALTER TABLE scores ADD COLUMN IF NOT EXISTS file VARCHAR;
COMMENT ON COLUMN scores.run IS 'Provenance: the run the result came from (HELM run name, lm-eval task, Inspect task and log ...), where the source says.';
COMMENT ON COLUMN scores.metric IS 'Provenance: the metric the score is (exact_match, acc, f1 ...), where the source says.';
COMMENT ON COLUMN scores.file IS 'Provenance: the file the result was read from, relative to the loaded unit, where the source has several.';

CREATE TABLE IF NOT EXISTS analyses (
    analysis VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    seed BIGINT NOT NULL,
    n_resamples INTEGER NOT NULL,
    confidence_level DOUBLE NOT NULL,
    aggregation VARCHAR NOT NULL,
    data_fingerprint VARCHAR NOT NULL,
    effbench_version VARCHAR NOT NULL
);
ALTER TABLE analyses ADD COLUMN IF NOT EXISTS options JSON;
COMMENT ON TABLE analyses IS 'The parameters of every stored analysis (rank_intervals, dior): method, seed, number of resamples or draws, confidence level, aggregation, a fingerprint of the sources it was computed from, the effbench version (with a hash of its analysis code), and other options (JSON).';

CREATE TABLE IF NOT EXISTS rank_intervals (
    model VARCHAR NOT NULL,
    rank INTEGER NOT NULL,
    rank_lo INTEGER,
    rank_hi INTEGER,
    score DOUBLE NOT NULL,
    score_lo DOUBLE,
    score_hi DOUBLE,
    analysis VARCHAR NOT NULL
);
COMMENT ON TABLE rank_intervals IS 'Overall rank (1 = best) and score of each model with their intervals (score: percentile of a paired Bayesian bootstrap; rank: from paired differences to every other model); parameters in analyses. Intervals are NULL where no scenario has per-item results.';
ALTER TABLE rank_intervals ADD COLUMN IF NOT EXISTS partial BOOLEAN;
ALTER TABLE rank_intervals ADD COLUMN IF NOT EXISTS missing_scenarios INTEGER;
ALTER TABLE rank_intervals ADD COLUMN IF NOT EXISTS micro_score DOUBLE;
ALTER TABLE rank_intervals ADD COLUMN IF NOT EXISTS micro_score_lo DOUBLE;
ALTER TABLE rank_intervals ADD COLUMN IF NOT EXISTS micro_score_hi DOUBLE;
ALTER TABLE rank_intervals ADD COLUMN IF NOT EXISTS micro_rank INTEGER;
ALTER TABLE rank_intervals ADD COLUMN IF NOT EXISTS micro_rank_lo INTEGER;
ALTER TABLE rank_intervals ADD COLUMN IF NOT EXISTS micro_rank_hi INTEGER;
ALTER TABLE rank_intervals ADD COLUMN IF NOT EXISTS rank_method VARCHAR;
COMMENT ON COLUMN rank_intervals.partial IS 'True for a model without results in some scenario: each missing scenario counts at the lowest score any model has there, so skipping a scenario never raises a score.';
COMMENT ON COLUMN rank_intervals.rank_method IS 'marginal: each model''s rank interval holds its rank with the confidence level; simultaneous: all models'' intervals at once.';
COMMENT ON COLUMN rank_intervals.micro_rank IS 'Rank when every item weighs the same (scenario means weighted by their numbers of items), with micro_rank_lo/hi and micro_score.';

CREATE TABLE IF NOT EXISTS scenario_weights (
    scenario VARCHAR NOT NULL,
    n_items BIGINT NOT NULL,
    macro_weight DOUBLE NOT NULL,
    micro_weight DOUBLE NOT NULL,
    variance_share DOUBLE,
    tiny BOOLEAN NOT NULL
);
COMMENT ON TABLE scenario_weights IS 'Each scenario''s weight in the overall score: macro (every scenario the same, as ranked) and micro (by items); variance_share: its median share, over models, of the bootstrap variance of the overall score; tiny: fewer items than a tenth of the median scenario, too few to weigh like the others.';

CREATE TABLE IF NOT EXISTS scenario_intervals (
    model VARCHAR NOT NULL,
    scenario VARCHAR NOT NULL,
    n_items BIGINT NOT NULL,
    score DOUBLE,
    score_lo DOUBLE,
    score_hi DOUBLE,
    rank INTEGER,
    rank_lo INTEGER,
    rank_hi INTEGER,
    analysis VARCHAR NOT NULL
);
COMMENT ON TABLE scenario_intervals IS 'Each model''s score and rank within each scenario, with bootstrap percentile intervals from the same resamples as rank_intervals. n_items: items the model was scored on.';

CREATE TABLE IF NOT EXISTS rank_distribution (
    model VARCHAR NOT NULL,
    rank INTEGER NOT NULL,
    share DOUBLE NOT NULL,
    analysis VARCHAR NOT NULL
);
ALTER TABLE rank_distribution ADD COLUMN IF NOT EXISTS rank_last INTEGER;
COMMENT ON TABLE rank_distribution IS 'Share of bootstrap resamples in which each model took each overall rank from rank to rank_last: one rank per row where a model''s resampled ranks span at most 50, else at most 50 bins of equal width (ranks never taken are left out), so rows grow linearly with the models.';

CREATE TABLE IF NOT EXISTS disagreements (
    model_a VARCHAR NOT NULL,
    model_b VARCHAR NOT NULL,
    a_better_in VARCHAR[] NOT NULL,
    b_better_in VARCHAR[] NOT NULL,
    analysis VARCHAR NOT NULL
);
COMMENT ON TABLE disagreements IS 'Pairs of models whose overall scores are within noise (the paired bootstrap interval of their difference holds 0) while each is clearly better in some scenarios: averaging hides a real disagreement.';

CREATE TABLE IF NOT EXISTS dior (
    decision VARCHAR NOT NULL,
    level VARCHAR NOT NULL,
    meta_metric VARCHAR NOT NULL,
    mean DOUBLE,
    lo DOUBLE,
    hi DOUBLE,
    dior DOUBLE,
    compute_fraction DOUBLE NOT NULL,
    n_draws INTEGER NOT NULL,
    seed BIGINT,
    metric_range VARCHAR NOT NULL,
    aggregation VARCHAR NOT NULL,
    level_order INTEGER NOT NULL,
    confidence_level DOUBLE NOT NULL
);
COMMENT ON TABLE dior IS 'Decision Impact on Reliability: for each design decision (examples, scenarios, aggregation, models, prompts, allocation) at each level, the meta-metric f(full-data ranking, ranking under a random instantiation) over n_draws draws: mean, central interval lo-hi, and dior = lo (for top1: the agreement rate, with its Wilson interval). metric_range: the meta-metric''s own range, not rescaled.';

CREATE TABLE IF NOT EXISTS rank_resolution (
    examples_per_scenario VARCHAR NOT NULL,
    half_width INTEGER NOT NULL,
    compute_fraction DOUBLE NOT NULL,
    compute_saved DOUBLE NOT NULL,
    level_order INTEGER NOT NULL
);
COMMENT ON TABLE rank_resolution IS 'For each number of examples per scenario: 95% of models'' ranks on a random sample lie within +-half_width of their full-data rank; compute_saved = 1 / compute_fraction.';

CREATE TABLE IF NOT EXISTS scenario_agreement (
    scenario_a VARCHAR NOT NULL,
    scenario_b VARCHAR NOT NULL,
    kendall_tau DOUBLE
);
COMMENT ON TABLE scenario_agreement IS 'Kendall tau between the model rankings of every two scenarios (1 = same order, 0 = unrelated, -1 = reversed).';

CREATE TABLE IF NOT EXISTS mwr_instability (
    removed_model VARCHAR NOT NULL,
    changed_models VARCHAR[] NOT NULL,
    top_pair_swapped BOOLEAN NOT NULL
);
COMMENT ON TABLE mwr_instability IS 'Removing each model in turn: the other models whose order changes under mean win rate (HELM''s aggregate), and whether the top two swap. Under the mean score this never happens.';

CREATE TABLE IF NOT EXISTS recommendations (
    position INTEGER NOT NULL,
    text VARCHAR NOT NULL
);
COMMENT ON TABLE recommendations IS 'Advice in plain words drawn from the dior curves.';

CREATE TABLE IF NOT EXISTS flash (
    variant VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    stop_stage VARCHAR NOT NULL,
    items_used BIGINT NOT NULL,
    items_full BIGINT NOT NULL,
    saving DOUBLE NOT NULL,
    flash_rank INTEGER NOT NULL,
    rank_lo INTEGER NOT NULL,
    rank_hi INTEGER NOT NULL,
    tier VARCHAR NOT NULL,
    full_rank INTEGER,
    abs_error INTEGER,
    within_resolution BOOLEAN,
    covered BOOLEAN
);
COMMENT ON TABLE flash IS 'Flash simulation: each model treated as new (leave-one-out) and ranked stage by stage against the others'' full results. Per model and variant: the stage it stopped at, items used against a full run (saving = items_full / items_used), its Flash rank and interval, its full-data rank, and whether it ended within its tier''s resolution and inside its interval.';

CREATE TABLE IF NOT EXISTS flash_stages (
    variant VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    stage VARCHAR NOT NULL,
    items_used BIGINT NOT NULL,
    rank INTEGER NOT NULL,
    rank_lo INTEGER NOT NULL,
    rank_hi INTEGER NOT NULL,
    resolution_met BOOLEAN NOT NULL
);
COMMENT ON TABLE flash_stages IS 'Every stage each simulated model went through, up to the one it stopped at.';

CREATE TABLE IF NOT EXISTS flash_summary (
    variant VARCHAR NOT NULL,
    saving DOUBLE NOT NULL,
    within_resolution DOUBLE NOT NULL,
    largest_error INTEGER NOT NULL,
    coverage DOUBLE NOT NULL,
    n_models INTEGER NOT NULL,
    is_default BOOLEAN NOT NULL
);
ALTER TABLE flash_summary ADD COLUMN IF NOT EXISTS saving_lo DOUBLE;
ALTER TABLE flash_summary ADD COLUMN IF NOT EXISTS saving_hi DOUBLE;
ALTER TABLE flash_summary ADD COLUMN IF NOT EXISTS within_resolution_early DOUBLE;
ALTER TABLE flash_summary ADD COLUMN IF NOT EXISTS n_every_item INTEGER;
ALTER TABLE flash_summary ADD COLUMN IF NOT EXISTS collapsed_misses INTEGER;
ALTER TABLE flash_summary ADD COLUMN IF NOT EXISTS n_seeds INTEGER;
ALTER TABLE flash_summary ADD COLUMN IF NOT EXISTS n_replays INTEGER;
ALTER TABLE flash_summary ADD COLUMN IF NOT EXISTS n_candidates INTEGER;
COMMENT ON TABLE flash_summary IS 'Flash simulation per variant (estimator, order, error control, stop rule), replayed leave-one-out over n_seeds item orders: compute saving (x; mean over seeds, saving_lo..saving_hi its range), share of replays whose reported rank is within the resolution of both the reported and the true tier (within_resolution; within_resolution_early among replays that stopped before using every item, n_every_item those that used every item), largest rank error, observed interval coverage, collapsed_misses (replays outside resolution with a one-rank interval). n_models models were replayed out of n_candidates with per-item results (on a board of more than 100 such models, a seeded draw of 100, one model from each stratum of consecutive full-data ranks). is_default marks the configured variant; flash and flash_stages hold its first seed.';

CREATE TABLE IF NOT EXISTS boards (board VARCHAR NOT NULL, scenario VARCHAR NOT NULL);
COMMENT ON TABLE boards IS 'Which scenarios each board ranks together: one row per board and scenario. A board is declared in effbench.toml ([[boards]]) or formed from the data (scenarios whose model sets overlap by more than half); a site shows one leaderboard per board.';

CREATE TABLE IF NOT EXISTS board_info (
    board VARCHAR NOT NULL,
    position INTEGER NOT NULL,
    title VARCHAR NOT NULL,
    description VARCHAR NOT NULL,
    missing VARCHAR NOT NULL,
    declared BOOLEAN NOT NULL
);
COMMENT ON TABLE board_info IS 'One row per board, in the order the site shows them: title, description, whether it was declared in effbench.toml, and missing, its policy for a model without results in some of its scenarios (lowest-if-half, lowest or exclude).';

CREATE TABLE IF NOT EXISTS board_models (
    board VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    ranked BOOLEAN NOT NULL,
    no_results_in VARCHAR[] NOT NULL
);
COMMENT ON TABLE board_models IS 'Every model with results on a board: whether it is ranked there, and no_results_in, the board''s scenarios it has no results in (empty for a model with all of them). A model that is not ranked is listed on the board without a rank or a score.';

ALTER TABLE analyses ADD COLUMN IF NOT EXISTS board VARCHAR;
ALTER TABLE rank_intervals ADD COLUMN IF NOT EXISTS board VARCHAR;
ALTER TABLE scenario_weights ADD COLUMN IF NOT EXISTS board VARCHAR;
ALTER TABLE scenario_intervals ADD COLUMN IF NOT EXISTS board VARCHAR;
ALTER TABLE rank_distribution ADD COLUMN IF NOT EXISTS board VARCHAR;
ALTER TABLE disagreements ADD COLUMN IF NOT EXISTS board VARCHAR;
ALTER TABLE dior ADD COLUMN IF NOT EXISTS board VARCHAR;
ALTER TABLE rank_resolution ADD COLUMN IF NOT EXISTS board VARCHAR;
ALTER TABLE scenario_agreement ADD COLUMN IF NOT EXISTS board VARCHAR;
ALTER TABLE mwr_instability ADD COLUMN IF NOT EXISTS board VARCHAR;
ALTER TABLE recommendations ADD COLUMN IF NOT EXISTS board VARCHAR;
ALTER TABLE flash ADD COLUMN IF NOT EXISTS board VARCHAR;
ALTER TABLE flash_stages ADD COLUMN IF NOT EXISTS board VARCHAR;
ALTER TABLE flash_summary ADD COLUMN IF NOT EXISTS board VARCHAR;
COMMENT ON COLUMN rank_intervals.board IS 'The board the model is ranked on (see boards); every analysis table has this column.';

CREATE TABLE IF NOT EXISTS leaderboard_history (
    built_at TIMESTAMPTZ NOT NULL,
    board VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    rank INTEGER NOT NULL,
    rank_lo DOUBLE,
    rank_hi DOUBLE,
    score DOUBLE,
    score_lo DOUBLE,
    score_hi DOUBLE
);
COMMENT ON TABLE leaderboard_history IS 'The leaderboard as each build that changed it published it: one snapshot (the leaderboard view''s ranks and scores with their intervals) per built_at, recorded only when it differs from the one before. The changes page and its Atom feed are read from here.';

CREATE TABLE IF NOT EXISTS scenario_history (built_at TIMESTAMPTZ NOT NULL, board VARCHAR NOT NULL, scenario VARCHAR NOT NULL);
COMMENT ON TABLE scenario_history IS 'The scenarios of each board in each leaderboard_history snapshot (same built_at).';

CREATE OR REPLACE VIEW coverage AS
SELECT s.model, s.scenario,
       count(s.score) AS n_scored,
       any_value(c.n_items) AS n_items,
       count(s.score) / any_value(c.n_items) AS coverage
FROM scores AS s JOIN scenarios AS c USING (scenario)
GROUP BY s.model, s.scenario;
COMMENT ON VIEW coverage IS 'For each model and scenario: results with a score, the scenario''s items, and their ratio.';

CREATE OR REPLACE VIEW leaderboard AS
SELECT r.model, r.rank, r.rank_lo, r.rank_hi, r.score, r.score_lo, r.score_hi,
       coalesce(c.n_items, 0) AS n_items, coalesce(c.n_scenarios, 0) AS n_scenarios,
       c.n_items / nullif(t.total_items, 0) AS coverage, coalesce(r.partial, false) AS partial, r.board
FROM rank_intervals AS r
LEFT JOIN (
    SELECT b.board, s.model,
           count(DISTINCT (s.scenario, s.item_id)) FILTER (WHERE s.score IS NOT NULL AND s.item_id IS NOT NULL)
               AS n_items,
           count(DISTINCT s.scenario) FILTER (WHERE s.score IS NOT NULL) AS n_scenarios
    FROM scores AS s JOIN boards AS b USING (scenario) GROUP BY b.board, s.model
) AS c USING (board, model)
LEFT JOIN (
    SELECT b.board, sum(n_items) AS total_items FROM scenarios JOIN boards AS b USING (scenario)
    WHERE level = 'item' GROUP BY b.board
) AS t USING (board)
ORDER BY r.board, r.rank, r.model;
COMMENT ON VIEW leaderboard IS 'One row per ranked model and board, rank 1 = best: rank and score with their bootstrap intervals (see analyses for the parameters), items and scenarios of the board with a score, coverage = share of the board''s items scored, and partial = the model lacks some scenario of the board, which counts at the board''s lowest score there.';

CREATE OR REPLACE VIEW data_fingerprint AS
SELECT sha256(coalesce((SELECT string_agg(sha256 || ':' || kind || ':' || coalesce(CAST(options AS VARCHAR), ''), '|'
                                          ORDER BY source_id) FROM sources), '')
              || coalesce((SELECT '|lower is better:' || string_agg(scenario, '|' ORDER BY scenario) FROM scenarios
                           WHERE higher_is_better IS FALSE), '')) AS fingerprint;
COMMENT ON VIEW data_fingerprint IS 'A hash of every loaded source (its bytes, kind and options) and of the scenarios ranked lower-is-better; analyses record it.';

CREATE OR REPLACE VIEW analysis_status AS
SELECT a.analysis, a.data_fingerprint = f.fingerprint AS current, a.effbench_version
FROM analyses AS a CROSS JOIN data_fingerprint AS f;
COMMENT ON VIEW analysis_status IS 'Whether each stored analysis was computed from the data loaded now. After effbench ingest, dior and flash stay stale (current = false) until effbench build, effbench dior or effbench flash simulate.';
