{#- The seed's check_governance_approval trigger (003): an agent session may run only after an
    approved pre_agent_spawn or consensus_check governance event. True for a governance event (columns
    of alias `g`) that grants that approval. active_agent_sessions and agent_cost_governance flag a
    running session without one (running_without_approval); the quality rule agent_running_has_approval
    (quality/rules.py) quarantines the same sessions. -#}
{% macro grants_spawn_approval(g) -%}
    ({{ g }}.approved and {{ g }}.event_type in ('pre_agent_spawn', 'consensus_check'))
{%- endmacro %}
