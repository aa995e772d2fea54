"""The billing rules engine: CMS rule sets as dated data and a pure evaluation over facts."""

from remotecare.rules.evaluate import evaluate, evaluate_activities
from remotecare.rules.load import RuleBook, RulesError, load_rules
from remotecare.rules.results import ClaimLine, Evaluation, InProgress, NotBilled
from remotecare.rules.schema import CodeRule, RuleSet
from remotecare.rules.settings import PracticeSettings

__all__ = [
    "ClaimLine",
    "CodeRule",
    "Evaluation",
    "InProgress",
    "NotBilled",
    "PracticeSettings",
    "RuleBook",
    "RuleSet",
    "RulesError",
    "evaluate",
    "evaluate_activities",
    "load_rules",
]
