"""Domain events and the in-transaction bus that hands them to subscribing rooms (standard library only)."""

from .bus import EventBus
from .catalogue import (
    CourseCompleted,
    DomainEvent,
    ExerciseAnswered,
    LaunchCompleted,
    LearningEvent,
    LessonCompleted,
    LessonViewed,
    ModuleCompleted,
    QuizAttemptStarted,
    QuizAttemptSubmitted,
    QuizGradeOverridden,
)

__all__ = ["CourseCompleted", "DomainEvent", "EventBus", "ExerciseAnswered", "LaunchCompleted", "LearningEvent",
           "LessonCompleted", "LessonViewed", "ModuleCompleted", "QuizAttemptStarted", "QuizAttemptSubmitted",
           "QuizGradeOverridden"]
