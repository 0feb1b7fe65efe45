-- The highlights tables, exactly as the original design gives them (DESIGN.md, "Postgres (highlights)").
-- Other systems read these; extend with new columns or tables, never rename or drop.
CREATE TABLE streamers (
    broadcaster_id BIGINT PRIMARY KEY,
    streamer_login VARCHAR(255) NOT NULL,
    allows_clipping BOOLEAN DEFAULT TRUE,
    first_seen_at TIMESTAMP DEFAULT NOW(),
    last_seen_at TIMESTAMP DEFAULT NOW()
);
CREATE INDEX idx_streamers_last_seen ON streamers(last_seen_at);

CREATE TABLE clips (
    id SERIAL PRIMARY KEY,
    broadcaster_id BIGINT NOT NULL,
    clip_id VARCHAR(255) NOT NULL UNIQUE,
    embed_url TEXT NOT NULL,
    thumbnail_url TEXT NOT NULL,
    detected_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP DEFAULT NOW()
);
CREATE INDEX idx_clips_detected_at ON clips(detected_at DESC);
CREATE INDEX idx_clips_broadcaster_id ON clips(broadcaster_id);
