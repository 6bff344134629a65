CREATE INDEX IF NOT EXISTS idx_insights_user_time ON {schema}.journal_insights (user_id, generated_at DESC);
CREATE INDEX IF NOT EXISTS idx_insights_type ON {schema}.journal_insights (insight_type, generated_at DESC);
CREATE INDEX IF NOT EXISTS idx_insights_date_range ON {schema}.journal_insights (user_id, start_date, end_date);
CREATE INDEX IF NOT EXISTS idx_insights_themes ON {schema}.journal_insights USING gin (themes);
CREATE INDEX IF NOT EXISTS idx_insights_period ON {schema}.journal_insights (insight_type, start_date);
