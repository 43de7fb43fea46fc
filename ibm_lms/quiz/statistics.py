"""Item statistics of a quiz as Moodle's quiz statistics report defines them (pure: numpy only).

The caller hands over a matrix of marks (attempts × questions, NaN where an attempt did not draw
the question) already filtered to the attempts Moodle's "which attempts" setting selects; this
module only computes.

Definitions checked against Moodle's source (master):
- per question: question/classes/statistics/questions/calculator.php (the step walkers and
  question walkers) and calculated.php;
- per quiz: mod/quiz/report/statistics/classes/calculator.php (median, moments, CIC);
- what is shown as a percentage of what: mod/quiz/report/statistics/statistics_table.php (question
  columns) and classes/calculated.php (quiz columns), with mod/quiz/report/reportlib.php
  (quiz_report_scale_summarks_as_percentage: a raw mark × 100 / the quiz's maximum).
Moodle's own reference data set (mod/quiz/report/statistics/tests/fixtures/results00.csv and
qstats00.csv, computed independently in a spreadsheet) is reproduced in the tests.

Units of the results: everything is a percentage as Moodle displays it, except `attempts`,
`skewness` and `kurtosis` (plain numbers). The quiz's mean, median, SD and standard error are
percentages of the quiz's maximum mark; alpha (Moodle's "coefficient of internal consistency") and
the error ratio are percentages in their own right (alpha 0.75 is 75.0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ibm_lms.markers import N_
from ibm_lms.text import spreadsheet_cell


@dataclass(frozen=True)
class QuestionStats:
    slot: int  # 1-based column of the matrix, as Moodle numbers slots
    key: str
    attempts: int  # attempts that had this question
    facility: float | None  # percent: mean mark / max mark
    sd: float | None  # percent of the max mark: sample SD of the mark
    random_guess: float | None  # percent (the caller gives a fraction, Moodle's qtype API does too)
    intended_weight: float  # percent: max mark / quiz max mark
    effective_weight: float | None  # percent; None when Moodle leaves it blank or writes "negative covariance"
    discrimination_index: float | None  # percent: correlation of the mark with the rest of the test
    discriminative_efficiency: float | None  # percent: covariance / its maximum for these distributions
    # Moodle's `negcovar`: the mark covaries negatively with the total, so it has no effective weight
    # (the report writes "Negative covariance" in that column).
    negative_covariance: bool = False


@dataclass(frozen=True)
class QuizStats:
    attempts: int
    mean: float | None  # percent of the quiz max
    median: float | None  # percent of the quiz max
    sd: float | None  # percent of the quiz max (sample SD)
    skewness: float | None  # plain number
    kurtosis: float | None  # plain number (excess kurtosis: 0 for a normal distribution)
    alpha: float | None  # percent (Cronbach's alpha × 100; KR-20 on right/wrong questions)
    error_ratio: float | None  # percent
    standard_error: float | None  # percent of the quiz max


@dataclass(frozen=True)
class _Moments:
    """One question's sums over the attempts that had it, in marks (Moodle's intermediate fields)."""

    attempts: int
    mean: float | None = None
    variance: float | None = None  # markvariance
    rest_variance: float | None = None  # othermarkvariance
    covariance: float | None = None  # with the rest of the test
    covariance_max: float | None = None  # covariancemax: sorted marks against sorted rest-of-test marks
    covariance_total: float | None = None  # covariancewithoverallmark


# A spread this small relative to the marks is rounding, not a difference between attempts: Moodle
# stores fractions with 7 decimals, so real spreads are far larger.
_FLAT = 1e-9


def question_statistics(scores: np.ndarray, max_marks: np.ndarray | Sequence[float], keys: list[str],
                        random_guess: list[float | None]) -> tuple[QuizStats, list[QuestionStats]]:
    """Moodle's quiz and question statistics for a matrix of marks (attempts × questions, NaN = not drawn).

    The matrix is read one column at a time and never copied whole: the memory used beyond it is a
    few vectors as long as the number of attempts.
    """
    matrix, maxima = _check_matrix(scores, max_marks, len(keys))
    guesses = _check_random_guess(random_guess, len(keys))
    attempts = matrix.shape[0]
    totals, counts = _attempt_totals(matrix)
    moments = [_question_moments(*_column(matrix, j), totals) for j in range(matrix.shape[1])]
    quiz_max = _quiz_max(maxima, counts, attempts)
    weights = _effective_weights([m.covariance_total for m in moments])
    questions = [_question_stats(j, keys[j], maxima[j], guesses[j], quiz_max, moments[j], weights[j])
                 for j in range(len(keys))]
    forms, variance_sum = _test_length_and_variance_sum(moments, attempts)
    return _quiz_stats(totals, quiz_max, forms, variance_sum), questions


def facility_by_group(scores: np.ndarray, max_marks: np.ndarray | Sequence[float], groups: np.ndarray,
                      group_names: list[str]) -> dict[str, list[float | None]]:
    """Each group's facility index (percent) per question, over that group's attempts that had the question.

    `groups` holds, per attempt, either an index into `group_names` or the group's name itself. A
    question far easier or harder for one country than for the others hints at a translation or
    bias problem. None where a group has no attempt at a question (or the question's max is 0).
    """
    matrix, maxima = _check_matrix(scores, max_marks, None)
    if len(set(group_names)) != len(group_names):
        raise ValueError("group_names must not repeat a name")
    codes = _group_codes(np.asarray(groups), group_names, matrix.shape[0])
    per_group: list[list[float | None]] = [[] for _ in group_names]
    for j in range(matrix.shape[1]):
        values, present = _column(matrix, j)
        where = codes if present is None else codes[present]
        sums = np.bincount(where, weights=values, minlength=len(group_names))
        counts = np.bincount(where, minlength=len(group_names))
        for g in range(len(group_names)):
            defined = counts[g] > 0 and maxima[j] != 0
            per_group[g].append(100.0 * float(sums[g]) / int(counts[g]) / maxima[j] if defined else None)
    return dict(zip(group_names, per_group, strict=True))


# Thresholds of `flag`, in percent. Facility: the bands of the interpretation table of Moodle's "Quiz
# report statistics" docs page, taken from the Open University's iCMA guidance ("90-94 very easy",
# "95-100 extremely easy", "6-10 very difficult", "5 or less extremely difficult ..."). Discrimination:
# the same table calls a negative index "question probably invalid" and 20-29 / 0-19 "weak" / "very
# weak"; below 30 is also where Moodle's question bank column "Needs checking?" says "Very likely"
# (question/bank/statistics/classes/helper.php, NEED_FOR_REVISION_LOWER_THRESHOLD = 30).
EASY_FROM = 90.0
HARD_UP_TO = 10.0
WEAK_DISCRIMINATION_BELOW = 30.0


def flag(stat: QuestionStats) -> list[str]:
    """Hints for a question worth a second look: "easy", "hard", "negative_discrimination", "weak_discrimination"."""
    flags = []
    if stat.facility is not None and stat.facility >= EASY_FROM:
        flags.append("easy")
    elif stat.facility is not None and stat.facility <= HARD_UP_TO:
        flags.append("hard")
    if stat.discrimination_index is not None and stat.discrimination_index < 0:
        # Better trainees do worse on it than weaker ones: often a wrong key or a misleading text.
        flags.append("negative_discrimination")
    elif stat.discrimination_index is not None and stat.discrimination_index < WEAK_DISCRIMINATION_BELOW:
        flags.append("weak_discrimination")
    return flags


# Marked for translation: the page and the CSV show them in the reader's language.
QUESTION_HEADER = [N_("Slot"), N_("Question"), N_("Attempts"), N_("Facility index (%)"), N_("Standard deviation (%)"),
                   N_("Random guess score (%)"), N_("Intended weight (%)"), N_("Effective weight (%)"),
                   N_("Discrimination index (%)"), N_("Discriminative efficiency (%)")]


def to_csv_rows(quiz: QuizStats, questions: list[QuestionStats]) -> list[list[str]]:
    """The export: the question table (header, one row per question), an empty row, then the quiz's figures.

    Numbers have 2 decimals, counts none; an undefined figure is an empty cell, as in Moodle's
    report, and a negative covariance is written out in the effective weight column, as Moodle does.
    """
    rows = [list(QUESTION_HEADER)]
    for q in questions:
        weight = N_("negative covariance") if q.negative_covariance else _number(q.effective_weight)
        rows.append([str(q.slot), spreadsheet_cell(q.key), str(q.attempts), _number(q.facility), _number(q.sd),
                     _number(q.random_guess), _number(q.intended_weight), weight,
                     _number(q.discrimination_index), _number(q.discriminative_efficiency)])
    rows.append([])
    rows.append([N_("Quiz statistic"), N_("Value")])
    rows.extend([
        [N_("Attempts"), str(quiz.attempts)],
        [N_("Average grade (percent of max)"), _number(quiz.mean)],
        [N_("Median grade (percent of max)"), _number(quiz.median)],
        [N_("Standard deviation (percent of max)"), _number(quiz.sd)],
        [N_("Skewness"), _number(quiz.skewness)],
        [N_("Kurtosis"), _number(quiz.kurtosis)],
        [N_("Coefficient of internal consistency (%)"), _number(quiz.alpha)],
        [N_("Error ratio (%)"), _number(quiz.error_ratio)],
        [N_("Standard error (percent of max)"), _number(quiz.standard_error)],
    ])
    return rows


# --- Checking the input ------------------------------------------------------------------------


def _check_matrix(scores: np.ndarray, max_marks: np.ndarray | Sequence[float],
                  questions: int | None) -> tuple[np.ndarray, list[float]]:
    matrix = np.asarray(scores)  # no copy for an ndarray, whatever its dtype
    if matrix.ndim != 2:
        raise ValueError(f"scores must be a 2-D matrix (attempts × questions), not {matrix.ndim}-D")
    if matrix.dtype.kind not in "biuf":
        raise ValueError(f"scores must be numbers, not {matrix.dtype}")
    maxima = [float(m) for m in np.asarray(max_marks, dtype=np.float64).ravel()]
    if len(maxima) != matrix.shape[1]:
        raise ValueError(f"{len(maxima)} max marks for {matrix.shape[1]} questions")
    if questions is not None and questions != matrix.shape[1]:
        raise ValueError(f"{questions} keys for {matrix.shape[1]} questions")
    if any(not math.isfinite(m) or m < 0 for m in maxima):
        raise ValueError("max marks must be finite and not negative")
    if maxima and sum(maxima) == 0:
        raise ValueError("at least one question must be worth marks")
    return matrix, maxima


def _check_random_guess(random_guess: list[float | None], questions: int) -> list[float | None]:
    if len(random_guess) != questions:
        raise ValueError(f"{len(random_guess)} random guess scores for {questions} questions")
    for value in random_guess:
        # A fraction of the question's max, as Moodle's question types return it (0.25 for one right
        # option in four). Negative is possible with penalties for wrong options. A percent (25) is a
        # caller's mistake and must not come out as 2500 %.
        if value is not None and not (math.isfinite(value) and -1.0 <= value <= 1.0):
            raise ValueError(f"random guess score {value!r} is not a fraction between -1 and 1 (0.25, not 25)")
    return [None if v is None else 100.0 * v for v in random_guess]


def _group_codes(groups: np.ndarray, names: list[str], attempts: int) -> np.ndarray:
    if groups.shape != (attempts,):
        raise ValueError(f"groups must give one group per attempt ({attempts}), not shape {groups.shape}")
    if groups.dtype.kind in "iu":
        codes = groups.astype(np.intp, copy=False)
    elif groups.dtype.kind in "UOS":
        labels, inverse = np.unique(groups.astype(str), return_inverse=True)
        index = {name: i for i, name in enumerate(names)}
        unknown = [str(label) for label in labels if str(label) not in index]
        if unknown:
            raise ValueError(f"groups not in group_names: {', '.join(sorted(unknown)[:5])}")
        codes = np.asarray([index[str(label)] for label in labels], dtype=np.intp)[inverse.ravel()]
    else:
        raise ValueError(f"groups must be indexes into group_names or names, not {groups.dtype}")
    if attempts and (codes.min() < 0 or codes.max() >= len(names)):
        raise ValueError(f"group indexes must lie in 0..{len(names) - 1}")
    return codes


# --- One column at a time ----------------------------------------------------------------------


def _column(matrix: np.ndarray, j: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Question j's marks as float64 over the attempts that had it, and which those are (None: all).

    Only this vector is made (float32 input is widened here, so sums are done in float64).
    """
    values = matrix[:, j].astype(np.float64)
    missing = np.isnan(values)
    present = None
    if missing.any():
        present = ~missing
        values = values[present]
    if not np.isfinite(values).all():
        raise ValueError(f"scores of question {j + 1} must be finite (NaN only for a question not drawn)")
    return values, present


def _attempt_totals(matrix: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Each attempt's sum of marks (Moodle's `summarks`: over the questions the attempt had), and each
    question's number of attempts."""
    totals = np.zeros(matrix.shape[0], dtype=np.float64)
    counts = []
    for j in range(matrix.shape[1]):
        values, present = _column(matrix, j)
        if present is None:
            totals += values
        else:
            totals[present] += values
        counts.append(int(values.size))
    return totals, counts


def _deviations(values: np.ndarray) -> np.ndarray:
    """Differences from the mean; exactly 0 for values that are all equal, so that "no spread" is
    0 and not a rounding residue (Moodle tests `markvariance * othermarkvariance` and `covariancemax`
    for zero before dividing)."""
    spread = float(values.max() - values.min())
    if spread <= _FLAT * max(1.0, float(np.abs(values).max())):
        return np.zeros_like(values)
    return values - values.mean()


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Σ a·b without BLAS: for one vector BLAS may start threads, which on a busy two-core server
    made the whole computation six times slower than this single loop."""
    return float(np.einsum("i,i->", a, b))


def _question_moments(values: np.ndarray, present: np.ndarray | None, totals: np.ndarray) -> _Moments:
    """Moodle's per-question sums (calculator.php: initial and secondary walkers), over the attempts
    that had the question: the rest of the test is the attempt's total minus this question's mark."""
    s = int(values.size)
    if s == 0:
        return _Moments(attempts=0)
    mean = float(values.mean())
    if s == 1:  # Moodle: every variance and covariance is null for one attempt
        return _Moments(attempts=1, mean=mean)
    rest = (totals if present is None else totals[present]) - values
    dx = _deviations(values)
    dr = _deviations(rest)
    d = s - 1  # sample (n - 1) denominators throughout, as Moodle
    variance = _dot(dx, dx) / d
    covariance = _dot(dx, dr) / d
    # Discriminative efficiency's denominator: the largest covariance these two sets of marks could
    # have, reached by pairing them in sorted order. Shifting by the mean keeps the order, so the
    # sorted deviations are the deviations of the sorted marks.
    covariance_max = _dot(np.sort(dx), np.sort(dr)) / d
    return _Moments(attempts=s, mean=mean, variance=variance, rest_variance=_dot(dr, dr) / d,
                    covariance=covariance, covariance_max=covariance_max,
                    # cov(x, total) = cov(x, x + rest) = var(x) + cov(x, rest). Moodle sums
                    # (x - mean x) · total directly; the same number.
                    covariance_total=variance + covariance)


def _quiz_max(maxima: list[float], counts: list[int], attempts: int) -> float:
    """The quiz's maximum mark (Moodle's `sumgrades`): the sum of the questions' max marks, or with
    questions drawn at random the average over attempts of the max of the questions each one had."""
    if attempts == 0:
        return sum(maxima)
    drawn = sum(m * c for m, c in zip(maxima, counts, strict=True)) / attempts
    return drawn if drawn > 0 else sum(maxima)


def _effective_weights(covariances: list[float | None]) -> list[float | None]:
    """Moodle: 100 · sqrt(cov(x_i, T)) / Σ_j sqrt(cov(x_j, T)), the sum over questions whose covariance
    with the total is not negative; a negative one has no weight (`negcovar`), and when the sum is 0
    no question has one. (The docs write sqrt(w_i · cov(fraction_i, T)); with marks = w_i · fraction_i
    it is the same.)"""
    roots = [math.sqrt(c) for c in covariances if c is not None and c >= 0]
    denominator = sum(roots)
    if denominator == 0:
        return [None] * len(covariances)
    return [None if c is None or c < 0 else 100.0 * math.sqrt(c) / denominator for c in covariances]


def _question_stats(j: int, key: str, maximum: float, guess: float | None, quiz_max: float, m: _Moments,
                    effective_weight: float | None) -> QuestionStats:
    worth = maximum != 0  # statistics_table.php leaves facility and SD blank for a question worth 0
    facility = 100.0 * m.mean / maximum if m.mean is not None and worth else None
    sd = 100.0 * math.sqrt(m.variance) / maximum if m.variance is not None and worth else None
    discrimination = None
    if m.variance and m.rest_variance and m.covariance is not None:  # Moodle: if (markvariance * othermarkvariance)
        discrimination = 100.0 * m.covariance / math.sqrt(m.variance * m.rest_variance)
    efficiency = None
    if m.covariance_max and m.covariance is not None:  # Moodle: if (covariancemax)
        efficiency = 100.0 * m.covariance / m.covariance_max
    return QuestionStats(slot=j + 1, key=key, attempts=m.attempts, facility=facility, sd=sd, random_guess=guess,
                         intended_weight=100.0 * maximum / quiz_max, effective_weight=effective_weight,
                         discrimination_index=discrimination, discriminative_efficiency=efficiency,
                         negative_covariance=m.covariance_total is not None and m.covariance_total < 0)


# --- The whole quiz ----------------------------------------------------------------------------


def _test_length_and_variance_sum(moments: list[_Moments], attempts: int) -> tuple[float, float]:
    """Alpha's number of questions p and Σ of the questions' mark variances.

    Moodle: p = the number of slots, Σ over slots (a variance that is null, one attempt, counts 0).
    With every question in every attempt that is what this gives. With questions drawn at random
    each question counts for the share of attempts that had it: p is the average number of
    questions in an attempt and the sum is the expected sum of variances of one attempt's questions.
    """
    if attempts == 0:
        return 0.0, 0.0
    length = sum(m.attempts for m in moments) / attempts
    variance_sum = sum((m.variance or 0.0) * m.attempts for m in moments) / attempts
    return length, variance_sum


def _quiz_stats(totals: np.ndarray, quiz_max: float, length: float, variance_sum: float) -> QuizStats:
    """mod/quiz/report/statistics/classes/calculator.php: mean, median, sample SD; skewness and
    kurtosis from the moments m2, m3, m4 with their sample corrections (k statistics); CIC, error
    ratio and standard error."""
    n = int(totals.size)
    if n == 0:
        return QuizStats(0, None, None, None, None, None, None, None, None)
    mean = float(totals.mean())
    median = float(np.median(totals))  # Moodle: the middle total, or the mean of the two middle ones
    sd = skewness = kurtosis = cic = error_ratio = standard_error = None
    if n > 1:
        d = _deviations(totals)
        power2 = _dot(d, d)
        sd = math.sqrt(power2 / (n - 1))
        if n > 2:
            squares = d * d
            m2, m3, m4 = power2 / n, _dot(squares, d) / n, _dot(squares, squares) / n
            k2 = n * m2 / (n - 1)
            k3 = n * n * m3 / ((n - 1) * (n - 2))
            if k2 != 0:
                skewness = k3 / k2**1.5
                if n > 3:
                    k4 = n * n * ((n + 1) * m4 - 3 * (n - 1) * m2 * m2) / ((n - 1) * (n - 2) * (n - 3))
                    kurtosis = k4 / (k2 * k2)  # excess kurtosis (G2)
                if length > 1:
                    # Cronbach's alpha as a percentage: p / (p - 1) · (1 - Σ var(x_i) / var(T)).
                    cic = 100.0 * length / (length - 1) * (1 - variance_sum / k2)
                    error_ratio = _error_ratio(cic)
                    standard_error = None if error_ratio is None else error_ratio * sd / 100.0
    return QuizStats(attempts=n, mean=_of_max(mean, quiz_max), median=_of_max(median, quiz_max),
                     sd=_of_max(sd, quiz_max), skewness=skewness, kurtosis=kurtosis, alpha=cic,
                     error_ratio=error_ratio, standard_error=_of_max(standard_error, quiz_max))


def _error_ratio(cic: float) -> float | None:
    """100 · sqrt(1 - alpha). Alpha cannot exceed 1 with every question in every attempt, but it can by
    a rounding hair, and with random draws by more: Moodle stores NaN as null there, so do we."""
    radicand = 1.0 - cic / 100.0
    if radicand < 0:
        if radicand < -1e-9:
            return None
        radicand = 0.0
    return 100.0 * math.sqrt(radicand)


def _of_max(marks: float | None, quiz_max: float) -> float | None:
    """quiz_report_scale_summarks_as_percentage: marks × 100 / the quiz's max (blank when that is 0)."""
    return None if marks is None or quiz_max == 0 else 100.0 * marks / quiz_max


# --- CSV cells ---------------------------------------------------------------------------------


def _number(value: float | None) -> str:
    if value is None:
        return ""
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text


