"""Appeals of failed spot checks: filing, a second re-check, and another supervisor's decision."""
