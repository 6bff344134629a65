-- The assembled PersonaKit mindscape (seed 001, 1.2 Mindscape): one row per live person's mindscape,
-- with its narrative, goals and beliefs (the source's), the knowledge store's three layers and the
-- trait matrix (derived by the persona assets from approved or processed observations only, rule 4),
-- and the processing metadata. Nested parts are JSONB arrays in the seed's camelCase shape, ordered
-- deterministically (goals by priority then description, beliefs by strength, traits and facts by name).
--   hot layer:  knowledge entries not expired at assembly (expires_at null or after assembled_at)
--   warm layer: the number of vector documents (observations) and chunks of the active model
--   cold layer: the GraphMetadata row
-- A persona store that has not been built yet contributes nothing (empty arrays, zero counts, null
-- cold layer), so the mart builds on a warehouse where only the ingest ran.
-- Strategy: a table rebuilt every run; its inputs are per-person aggregates of small tables.
with mindscapes as (
    select m.*, pe.display_name
    from {{ ref('stg_personakit__mindscapes') }} as m
    join {{ ref('stg_personakit__persons') }} as pe on pe.person_id = m.person_id and not pe.is_deleted
),

goals as (
    select
        mindscape_id,
        count(*) as goal_count,
        jsonb_agg(jsonb_build_object(
            'goalId', goal_id, 'description', description, 'timeframe', timeframe, 'priority', priority,
            'volatility', volatility, 'derivedFrom', to_jsonb(derived_from), 'confidence', confidence,
            'createdAt', created_at, 'updatedAt', updated_at)
            order by case priority when 'high' then 0 when 'medium' then 1 else 2 end, description, goal_id) as goals,
        max(_ingested_at) as _ingested_at
    from {{ ref('stg_personakit__goals') }}
    group by mindscape_id
),

beliefs as (
    select
        mindscape_id,
        count(*) as belief_count,
        jsonb_agg(jsonb_build_object(
            'beliefId', belief_id, 'statement', statement, 'category', category, 'strength', strength,
            'volatility', volatility, 'derivedFrom', to_jsonb(derived_from), 'confidence', confidence,
            'createdAt', created_at, 'updatedAt', updated_at)
            order by strength desc, statement, belief_id) as beliefs,
        max(_ingested_at) as _ingested_at
    from {{ ref('stg_personakit__beliefs') }}
    group by mindscape_id
),

traits as (
    select
        person_id,
        count(*) as trait_count,
        jsonb_agg(jsonb_build_object(
            'traitName', trait_name, 'value', value, 'dataType', data_type, 'volatility', volatility,
            'derivedFrom', to_jsonb(derived_from), 'confidence', confidence, 'metadata', metadata,
            'updatedAt', updated_at)
            order by trait_name) as trait_matrix
    from {{ personakit_optional_relation(source('persona', 'trait_matrix'),
        "null::uuid as person_id, null::text as trait_name, null::jsonb as value, null::text as data_type, "
        ~ "null::text as volatility, null::uuid[] as derived_from, null::double precision as confidence, "
        ~ "null::jsonb as metadata, null::timestamptz as updated_at") }} as t
    group by person_id
),

hot as (
    select
        person_id,
        count(*) as hot_layer_count,
        jsonb_agg(jsonb_build_object(
            'entryId', entry_id, 'key', key, 'value', value, 'dataType', data_type, 'category', category,
            'volatility', volatility, 'derivedFrom', to_jsonb(derived_from), 'confidence', confidence,
            'ttl', ttl, 'version', version, 'updatedAt', updated_at, 'expiresAt', expires_at)
            order by key) as hot_layer
    from {{ personakit_optional_relation(source('persona', 'knowledge_entries'),
        "null::uuid as entry_id, null::uuid as person_id, null::text as key, null::jsonb as value, "
        ~ "null::text as data_type, null::text as category, null::text as volatility, null::uuid[] as derived_from, "
        ~ "null::double precision as confidence, null::integer as ttl, null::integer as version, "
        ~ "null::timestamptz as updated_at, null::timestamptz as expires_at") }} as k
    where k.expires_at is null or k.expires_at > now()
    group by person_id
),

warm as (
    select
        person_id,
        count(distinct document_id) as warm_layer_documents,
        count(*) as warm_layer_chunks,
        min(embedding_model) as warm_layer_model
    from {{ personakit_optional_relation(source('persona', 'knowledge_warm_layer'),
        "null::uuid as document_id, null::uuid as person_id, null::text as embedding_model") }} as w
    group by person_id
),

cold as (
    select
        person_id,
        jsonb_build_object(
            'totalNodes', total_nodes, 'totalEdges', total_edges, 'graphDensity', graph_density,
            'centralNodes', to_jsonb(central_nodes), 'communities', communities,
            'analysisVersion', analysis_version, 'lastAnalysisRun', last_analysis_run) as cold_layer
    from {{ personakit_optional_relation(source('persona', 'graph_metadata'),
        "null::uuid as person_id, null::integer as total_nodes, null::integer as total_edges, "
        ~ "null::double precision as graph_density, null::text[] as central_nodes, null::jsonb as communities, "
        ~ "null::text as analysis_version, null::timestamptz as last_analysis_run") }} as g
)

select
    m.mindscape_id,
    m.person_id,
    m.display_name,
    m.version,
    m.narrative ->> 'summary' as narrative_summary,
    array(select jsonb_array_elements_text(
        case when jsonb_typeof(m.narrative -> 'keyThemes') = 'array' then m.narrative -> 'keyThemes' else '[]'::jsonb end
    )) as key_themes,
    {{ personakit_json_timestamp("m.narrative ->> 'lastUpdated'") }} as narrative_last_updated,
    coalesce(g.goal_count, 0) as goal_count,
    coalesce(g.goals, '[]'::jsonb) as goals,
    coalesce(b.belief_count, 0) as belief_count,
    coalesce(b.beliefs, '[]'::jsonb) as beliefs,
    coalesce(h.hot_layer_count, 0) as hot_layer_count,
    coalesce(h.hot_layer, '[]'::jsonb) as hot_layer,
    coalesce(w.warm_layer_documents, 0) as warm_layer_documents,
    coalesce(w.warm_layer_chunks, 0) as warm_layer_chunks,
    w.warm_layer_model,
    c.cold_layer,
    coalesce(t.trait_count, 0) as trait_count,
    coalesce(t.trait_matrix, '[]'::jsonb) as trait_matrix,
    {{ personakit_json_int("m.processing_metadata ->> 'totalObservationsProcessed'") }} as total_observations_processed,
    {{ personakit_json_int("m.processing_metadata ->> 'lastProcessingDuration'") }} as last_processing_duration_ms,
    {{ personakit_json_timestamp("m.processing_metadata ->> 'nextScheduledProcessing'") }} as next_scheduled_processing,
    m.last_processed_observation_id,
    m.created_at,
    m.updated_at,
    now() as assembled_at,
    greatest(m._ingested_at, g._ingested_at, b._ingested_at) as _ingested_at
from mindscapes as m
left join goals as g on g.mindscape_id = m.mindscape_id
left join beliefs as b on b.mindscape_id = m.mindscape_id
left join traits as t on t.person_id = m.person_id
left join hot as h on h.person_id = m.person_id
left join warm as w on w.person_id = m.person_id
left join cold as c on c.person_id = m.person_id
