"""Item statistics are Moodle's: its own reference data set, a worked example, an independent loop
implementation of its walkers, and the edge cases where a statistic is undefined."""

from __future__ import annotations

import math
import statistics as pystats

import numpy as np
import pytest

from ibm_lms.quiz.statistics import (
    QuestionStats,
    QuizStats,
    facility_by_group,
    flag,
    question_statistics,
    to_csv_rows,
)

NAN = float("nan")


def run(matrix, maxima, guesses=None):
    matrix = np.asarray(matrix, dtype=np.float64)
    keys = [f"q{j + 1}" for j in range(matrix.shape[1])]
    return question_statistics(matrix, np.asarray(maxima, dtype=np.float64), keys,
                               guesses if guesses is not None else [None] * matrix.shape[1])


def close(actual, expected, rel=1e-9, abs_=1e-9):
    if expected is None:
        return actual is None
    return actual is not None and math.isclose(actual, expected, rel_tol=rel, abs_tol=abs_)


# --- Moodle's own reference data -------------------------------------------------------------------

# The marks of Moodle's test quiz 00 (mod/quiz/report/statistics/tests/fixtures/results00.csv: 25
# attempts, 7 questions worth 1 mark each) and the statistics Moodle's tests expect for it
# (fixtures/qstats00.csv and check_quiz_stats_for_quiz_00 in stats_from_steps_walkthrough_test.php),
# which their author computed independently in a spreadsheet (jamiepratt/moodle-quiz-tools).
MOODLE_QUIZ_00 = [
    [1, 1, 1, 1, 1, 0, 1], [1, 1, 1, 1, 0.5, 1, 0], [1, 1, 1, 1, 0.5, 0, 1], [0, 0, 1, 1, 1, 0, 0],
    [1, 0, 1, 0, 0, 1, 0.5], [1, 1, 1, 1, 0.5, 0, 0.5], [0, 1, 1, 1, 0.5, 1, 0.5], [1, 1, 1, 0, 0.5, 1, 0.5],
    [1, 0, 1, 1, 1, 1, 1], [0, 1, 1, 0, 0.5, 1, 0.5], [0.8, 0, 1, 1, 0.5, 1, 0.5], [1, 1, 1, 0, 0.5, 1, 1],
    [1, 0, 1, 1, 0.5, 1, 0.5], [1, 0, 1, 1, 1, 0, 0.5], [0, 0, 1, 1, 0, 1, 1], [1, 0, 1, 0, 0.5, 1, 1],
    [0.8, 0, 1, 1, 0.5, 0, 1], [1, 0, 1, 1, 0, 1, 0.5], [1, 0, 1, 1, 0.5, 0, 0.5], [0, 1, 1, 0, 0.5, 1, 0],
    [1, 1, 0.3333333, 1, 0.5, 0, 0.5], [1, 1, 1, 0, 0.5, 0, 0.5], [1, 1, 1, 1, 0, 1, 0.5], [0, 0, 1, 0, 0.5, 1, 1],
    [0, 0, 1, 1, 1, 1, 1],
]
# slot: facility (fraction), sd (marks), effective weight, discrimination index, discriminative efficiency
MOODLE_QSTATS_00 = {
    1: (0.704, 0.4513682901, 21.2922742344, -7.0650767526, -9.4550536967),
    2: (0.48, 0.5099019514, 18.8979800309, -28.8982125772, -36.7834118938),
    3: (0.973333332, 0.13333334, 4.443012573, -9.1230674268, -21.6545012165),
    4: (0.68, 0.4760952286, 18.9347251357, -22.6306444113, -31.4411395613),
    5: (0.52, 0.3055050463, 11.1450138688, -17.6997047674, -21.1794802584),
    6: (0.64, 0.4898979486, 9.8081339177, -45.3785178421, -56.9365974439),
    7: (0.62, 0.331662479, 15.4788602394, -5.6543166602, -6.5043742058),
}


def test_moodles_reference_question_statistics():
    _, questions = run(MOODLE_QUIZ_00, [1] * 7)
    for q in questions:
        facility, sd, weight, discrimination, efficiency = MOODLE_QSTATS_00[q.slot]
        assert q.attempts == 25
        assert close(q.facility, 100 * facility, rel=1e-6), q.slot
        assert close(q.sd, 100 * sd, rel=1e-6), q.slot  # max 1: % of max = 100 × marks
        assert close(q.effective_weight, weight, rel=1e-5), q.slot
        assert close(q.discrimination_index, discrimination, rel=1e-5), q.slot
        assert close(q.discriminative_efficiency, efficiency, rel=1e-5), q.slot
        assert close(q.intended_weight, 100 / 7)
    assert close(sum(q.effective_weight for q in questions), 100.0)


def test_moodles_reference_quiz_statistics():
    quiz, _ = run(MOODLE_QUIZ_00, [1] * 7)
    # Moodle's expected values are in marks out of 7; the report shows those marked % as % of 7.
    assert quiz.attempts == 25
    assert close(quiz.mean, 4.617333332 / 7 * 100, rel=1.5e-5)
    assert close(quiz.median, 4.5 / 7 * 100, rel=1.5e-5)
    assert close(quiz.sd, 0.8117265554 / 7 * 100, rel=1.5e-5)
    assert close(quiz.skewness, -0.092502502, rel=1.5e-5)
    assert close(quiz.kurtosis, -0.7073968557, rel=1.5e-5)
    assert close(quiz.alpha, -87.2230935542, rel=1.5e-5)
    assert close(quiz.error_ratio, 136.8294900795, rel=1.5e-5)
    assert close(quiz.standard_error, 1.1106813066 / 7 * 100, rel=1.5e-5)


# --- A worked example --------------------------------------------------------------------------------

WORKED = [[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 0, 0]]


def test_a_worked_example():
    """Four attempts at three right/wrong questions, a perfect Guttman pattern; totals 3, 2, 1, 0.

    Question 1, marks x = 1 1 1 0: mean 0.75, facility 75 %; sample variance
    (3 · 0.25² + 0.75²) / 3 = 0.25, SD 0.5 = 50 % of its max.
    Rest of the test r = total − x = 2 1 0 0, mean 0.75; deviations x: .25 .25 .25 −.75,
    r: 1.25 .25 −.75 −.75. cov(x, r) = (.3125 + .0625 − .1875 + .5625) / 3 = 0.25;
    var(r) = (1.5625 + .0625 + .5625 + .5625) / 3 = 11/12.
    Discrimination index = 100 · 0.25 / sqrt(0.25 · 11/12) = 100 · sqrt(3/11) = 52.22 %.
    Sorted x: 0 1 1 1 (deviations −.75 .25 .25 .25), sorted r: 0 0 1 2 (−.75 −.75 .25 1.25):
    covariance max = (.5625 − .1875 + .0625 + .3125) / 3 = 0.25 = cov: efficiency 100 %.
    Effective weights: cov(x_j, total) = 1/2, 2/3, 1/2 (question 2: deviations ±.5 against total
    deviations 1.5 .5 −.5 −1.5 give 2/3), so 100 · sqrt(1/2) / (2 sqrt(1/2) + sqrt(2/3)) = 31.70 %
    for questions 1 and 3 and 36.60 % for question 2.
    The quiz: mean 1.5 = 50 % of 3, median 1.5, SD sqrt(5/3) = 1.2910 = 43.03 %, skewness 0
    (symmetric). Kurtosis: m2 = 5/4, m4 = (2 · 1.5⁴ + 2 · .5⁴)/4 = 2.5625, k2 = 5/3,
    k4 = 16 · (5 · 2.5625 − 9 · 1.5625) / 6 = −10/3, kurtosis = k4 / k2² = −1.2.
    Alpha: question variances 1/4, 1/3, 1/4 (sum 5/6), alpha = 3/2 · (1 − (5/6)/(5/3)) = 0.75 = 75 %;
    error ratio 100 · sqrt(0.25) = 50 %; standard error 50 % of the SD = 0.6455 marks = 21.52 % of 3.
    """
    quiz, (q1, q2, q3) = run(WORKED, [1, 1, 1])
    assert close(q1.facility, 75.0) and close(q1.sd, 50.0)
    assert close(q1.discrimination_index, 100 * math.sqrt(3 / 11))
    assert close(q1.discriminative_efficiency, 100.0)
    denominator = 2 * math.sqrt(1 / 2) + math.sqrt(2 / 3)
    assert close(q1.effective_weight, 100 * math.sqrt(1 / 2) / denominator)
    assert close(q2.effective_weight, 100 * math.sqrt(2 / 3) / denominator)
    assert close(q3.effective_weight, q1.effective_weight)
    assert round(q1.effective_weight, 2) == 31.70 and round(q2.effective_weight, 2) == 36.60
    assert close(quiz.mean, 50.0) and close(quiz.median, 50.0)
    assert close(quiz.sd, 100 * math.sqrt(5 / 3) / 3)
    assert close(quiz.skewness, 0.0, abs_=1e-12)
    assert close(quiz.kurtosis, -1.2)
    assert close(quiz.alpha, 75.0) and close(quiz.error_ratio, 50.0)
    assert close(quiz.standard_error, 0.5 * math.sqrt(5 / 3) / 3 * 100)


def test_alpha_is_kr20_on_right_wrong_questions():
    """KR-20 = k/(k−1) · (1 − Σ p_i q_i / σ²) with population variances (Kuder & Richardson, 1937)."""
    rng = np.random.default_rng(7)
    ability = rng.normal(size=(300, 1))
    matrix = (rng.random((300, 12)) < 1 / (1 + np.exp(-(ability - rng.normal(size=12))))).astype(float)
    quiz, _ = run(matrix, [1] * 12)
    p = matrix.mean(axis=0)
    totals = matrix.sum(axis=1)
    kr20 = 12 / 11 * (1 - float((p * (1 - p)).sum()) / float(totals.var()))
    assert close(quiz.alpha, 100 * kr20, rel=1e-10)
    assert 0 < quiz.alpha < 100


# --- An independent implementation: Moodle's walkers, one attempt at a time ------------------------


def moodle_by_loops(rows: list[list[float | None]], maxima: list[float]) -> tuple[dict, list[dict]]:
    """Moodle's computation written out in plain Python, as calculator.php walks the attempts.

    `None` is a question an attempt did not have. The per-attempt total is the sum of the marks the
    attempt got; "other marks" are that total minus the question's mark. Moodle's covariance with
    the overall mark subtracts `summarksaverage`, which stays 0 (nothing adds to `totalsummarks`), so
    it is Σ (mark − mean) · total: the same covariance, computed the other way.
    """
    n = len(rows)
    summarks = [sum(v for v in row if v is not None) for row in rows]
    questions = []
    for j, maximum in enumerate(maxima):
        had = [i for i in range(n) if rows[i][j] is not None]
        marks = [rows[i][j] for i in had]
        others = [summarks[i] - rows[i][j] for i in had]
        s = len(marks)
        average = sum(marks) / s if s else 0.0
        other_average = sum(others) / s if s else 0.0
        sorted_marks, sorted_others = sorted(marks), sorted(others)
        sums = dict(mark=0.0, other=0.0, cov=0.0, covmax=0.0, covall=0.0)
        for k, i in enumerate(had):
            d, od = marks[k] - average, others[k] - other_average
            sums["mark"] += d * d
            sums["other"] += od * od
            sums["cov"] += d * od
            sums["covmax"] += (sorted_marks[k] - average) * (sorted_others[k] - other_average)
            sums["covall"] += d * (summarks[i] - 0.0)
        stat = dict(s=s, facility=100 * average / maximum if s else None, variance=None, sd=None, di=None, de=None,
                    covall=None)
        if s > 1:
            v = {key: value / (s - 1) for key, value in sums.items()}
            stat.update(variance=v["mark"], sd=100 * math.sqrt(v["mark"]) / maximum, covall=v["covall"])
            if v["mark"] * v["other"]:
                stat["di"] = 100 * v["cov"] / math.sqrt(v["mark"] * v["other"])
            if v["covmax"]:
                stat["de"] = 100 * v["cov"] / v["covmax"]
        questions.append(stat)
    roots = sum(math.sqrt(q["covall"]) for q in questions if q["covall"] is not None and q["covall"] >= 0)
    for q in questions:
        ok = roots and q["covall"] is not None and q["covall"] >= 0
        q["ew"] = 100 * math.sqrt(q["covall"]) / roots if ok else None

    quiz_max = sum(m * q["s"] for m, q in zip(maxima, questions, strict=True)) / n
    mean = sum(summarks) / n
    p2 = sum((t - mean) ** 2 for t in summarks)
    p3 = sum((t - mean) ** 3 for t in summarks)
    p4 = sum((t - mean) ** 4 for t in summarks)
    m2, m3, m4 = p2 / n, p3 / n, p4 / n
    k2 = n * m2 / (n - 1)
    k3 = n * n * m3 / ((n - 1) * (n - 2))
    k4 = n * n * ((n + 1) * m4 - 3 * (n - 1) * m2 * m2) / ((n - 1) * (n - 2) * (n - 3))
    # p and the sum of variances, each question counted for the share of attempts that had it
    # (with every question in every attempt: Moodle's number of slots and plain sum).
    p = sum(q["s"] for q in questions) / n
    variance_sum = sum((q["variance"] or 0.0) * q["s"] for q in questions) / n
    cic = 100 * p / (p - 1) * (1 - variance_sum / k2)
    sd = math.sqrt(p2 / (n - 1))
    quiz = dict(mean=100 * mean / quiz_max, median=100 * pystats.median(summarks) / quiz_max,
                sd=100 * sd / quiz_max, skewness=k3 / k2**1.5, kurtosis=k4 / k2**2, alpha=cic,
                error_ratio=100 * math.sqrt(1 - cic / 100),
                standard_error=math.sqrt(1 - cic / 100) * sd / quiz_max * 100)
    return quiz, questions


SIX_BY_FOUR = [  # partial credit, questions worth 1, 2, 1 and 3 marks
    [1.0, 2.0, 0.5, 3.0],
    [0.0, 1.5, 1.0, 2.0],
    [1.0, 0.5, 0.0, 1.0],
    [0.5, 2.0, 1.0, 2.5],
    [0.0, 0.0, 0.5, 0.5],
    [1.0, 1.0, 1.0, 3.0],
]
SIX_BY_FOUR_MAX = [1, 2, 1, 3]


def compare_with_loops(rows, maxima, matrix):
    expected_quiz, expected = moodle_by_loops(rows, maxima)
    quiz, questions = run(matrix, maxima)
    for q, e in zip(questions, expected, strict=True):
        assert q.attempts == e["s"]
        for field, key in (("facility", "facility"), ("sd", "sd"), ("discrimination_index", "di"),
                           ("discriminative_efficiency", "de"), ("effective_weight", "ew")):
            assert close(getattr(q, field), e[key], rel=1e-9), (q.slot, field)
    for field, value in expected_quiz.items():
        assert close(getattr(quiz, field), value, rel=1e-9), field


def test_agrees_with_a_loop_implementation_of_moodles_walkers():
    compare_with_loops(SIX_BY_FOUR, SIX_BY_FOUR_MAX, SIX_BY_FOUR)


def test_agrees_with_the_loops_when_questions_are_drawn_at_random():
    rows = [list(r) for r in SIX_BY_FOUR] + [[0.5, 1.0, 1.0, 1.5], [1.0, 2.0, 0.0, 0.5]]
    for i, j in ((0, 2), (1, 0), (3, 3), (4, 1), (6, 2)):
        rows[i][j] = None
    matrix = [[NAN if v is None else v for v in row] for row in rows]
    compare_with_loops(rows, SIX_BY_FOUR_MAX, matrix)


def test_a_drawn_question_is_analysed_over_the_attempts_that_had_it():
    rng = np.random.default_rng(3)
    matrix = rng.integers(0, 2, size=(200, 6)).astype(float)
    matrix[rng.random((200, 6)) < 0.4] = NAN
    _, questions = run(matrix, [1] * 6)
    totals = np.nansum(matrix, axis=1)
    for q in questions:
        had = ~np.isnan(matrix[:, q.slot - 1])
        x = matrix[had, q.slot - 1]
        assert q.attempts == int(had.sum())
        assert close(q.facility, 100 * x.mean())
        assert close(q.sd, 100 * x.std(ddof=1))
        correlation = np.corrcoef(x, totals[had] - x)[0, 1]
        assert close(q.discrimination_index, 100 * correlation, rel=1e-9)


# --- Edge cases: undefined is None, never NaN or a division error -------------------------------------


def every_number(quiz: QuizStats, questions: list[QuestionStats]):
    for value in [*vars(quiz).values(), *(v for q in questions for v in vars(q).values())]:
        if isinstance(value, float):
            yield value


def assert_no_nan(quiz, questions):
    assert all(math.isfinite(v) for v in every_number(quiz, questions))


def test_no_attempts():
    quiz, questions = run(np.empty((0, 3)), [1, 2, 1], [0.25, None, 0.5])
    assert quiz == QuizStats(0, None, None, None, None, None, None, None, None)
    assert [q.attempts for q in questions] == [0, 0, 0]
    assert all(q.facility is None and q.sd is None and q.effective_weight is None for q in questions)
    assert all(q.discrimination_index is None and q.discriminative_efficiency is None for q in questions)
    assert [q.intended_weight for q in questions] == [25.0, 50.0, 25.0]
    assert [q.random_guess for q in questions] == [25.0, None, 50.0]


def test_one_attempt():
    quiz, questions = run([[1, 0, 0.5]], [1, 1, 1])
    assert quiz.attempts == 1 and close(quiz.mean, 50.0) and close(quiz.median, 50.0)
    assert quiz.sd is None and quiz.skewness is None and quiz.kurtosis is None
    assert quiz.alpha is None and quiz.error_ratio is None and quiz.standard_error is None
    assert [q.facility for q in questions] == [100.0, 0.0, 50.0]
    assert all(q.sd is None and q.discrimination_index is None and q.effective_weight is None for q in questions)


def test_two_and_three_attempts_stop_where_moodle_stops():
    quiz, _ = run([[1, 0], [0, 1]], [1, 1])
    assert quiz.sd == 0.0 and quiz.skewness is None and quiz.alpha is None  # Moodle: moments from 3 attempts
    quiz, _ = run([[1, 0], [1, 1], [0, 0]], [1, 1])
    assert quiz.skewness is not None and quiz.kurtosis is None and quiz.alpha is not None  # kurtosis from 4


def test_a_question_everyone_got_right():
    quiz, questions = run([[1, 1, 0], [1, 0, 0], [1, 1, 1], [1, 0, 1]], [1, 1, 1])
    right = questions[0]
    assert right.facility == 100.0 and right.sd == 0.0
    assert right.discrimination_index is None and right.discriminative_efficiency is None
    assert right.effective_weight == 0.0  # Moodle: sqrt(0) / Σ, it adds nothing to the spread
    assert flag(right) == ["easy"]
    assert_no_nan(quiz, questions)


def test_every_attempt_the_same():
    quiz, questions = run([[1, 0, 0.5]] * 5, [1, 1, 1])
    assert quiz.sd == 0.0 and quiz.skewness is None and quiz.kurtosis is None
    assert quiz.alpha is None and quiz.error_ratio is None and quiz.standard_error is None
    assert all(q.sd == 0.0 and q.discrimination_index is None and q.effective_weight is None for q in questions)
    assert_no_nan(quiz, questions)


def test_equal_totals_made_of_different_marks_do_not_become_rounding_noise():
    # 0.1 + 0.2 and 0.3 differ by one rounding step in binary; it is still no spread.
    quiz, questions = run([[0.1, 0.2, 0.0], [0.0, 0.0, 0.3], [0.2, 0.1, 0.0]], [1, 1, 1])
    assert quiz.sd == 0.0 and quiz.skewness is None and quiz.alpha is None
    assert_no_nan(quiz, questions)


def test_a_question_absent_from_every_attempt():
    matrix = np.array(SIX_BY_FOUR + [[1.0, 2.0, 1.0, 3.0]])
    matrix = np.hstack([matrix, np.full((7, 1), NAN)])
    quiz, questions = run(matrix, [*SIX_BY_FOUR_MAX, 2])
    absent = questions[-1]
    assert absent.attempts == 0 and absent.facility is None and absent.sd is None
    assert absent.effective_weight is None and absent.discrimination_index is None
    assert close(absent.intended_weight, 100 * 2 / 7)  # against the quiz max, as every question
    same_quiz, same_questions = run(matrix[:, :4], SIX_BY_FOUR_MAX)
    assert quiz == same_quiz and questions[:4] == same_questions  # it changes nothing else
    assert_no_nan(quiz, questions)


def test_a_negative_covariance_has_no_effective_weight():
    # Question 3 is right exactly for the attempts that fail the others.
    quiz, questions = run([[1, 1, 0], [1, 1, 0], [0, 0, 1], [0, 1, 0], [1, 0, 0]], [1, 1, 1])
    odd = questions[2]
    assert odd.negative_covariance and odd.effective_weight is None
    assert odd.discrimination_index < 0 and "negative_discrimination" in flag(odd)
    assert close(sum(q.effective_weight for q in questions if q.effective_weight is not None), 100.0)
    assert to_csv_rows(quiz, questions)[3][7] == "negative covariance"


def test_a_question_worth_nothing():
    quiz, questions = run([[1, 0], [0, 0], [1, 0]], [1, 0])
    assert questions[1].facility is None and questions[1].sd is None and questions[1].intended_weight == 0.0
    assert_no_nan(quiz, questions)


def test_float32_input_gives_the_float64_figures():
    rng = np.random.default_rng(11)
    matrix = rng.integers(0, 5, size=(500, 8)).astype(np.float32) / 4
    matrix[rng.random((500, 8)) < 0.2] = np.nan
    keys = [str(j) for j in range(8)]
    quiz32, questions32 = question_statistics(matrix, np.ones(8), keys, [None] * 8)
    quiz64, questions64 = question_statistics(matrix.astype(np.float64), np.ones(8), keys, [None] * 8)
    pairs = zip(every_number(quiz32, questions32), every_number(quiz64, questions64), strict=True)
    assert all(close(a, b, rel=1e-9) for a, b in pairs)
    assert matrix.dtype == np.float32


def test_a_hundred_thousand_attempts_at_forty_questions():
    """The size the brief sets; correctness only (timings belong to bench/)."""
    rng = np.random.default_rng(2024)
    attempts, questions = 100_000, 40
    ability = rng.normal(size=(attempts, 1)).astype(np.float32)
    difficulty = rng.normal(size=(1, questions)).astype(np.float32)
    matrix = (rng.random((attempts, questions), dtype=np.float32) < 1 / (1 + np.exp(difficulty - ability)))
    matrix = matrix.astype(np.float32)
    del ability
    before = matrix.copy()
    quiz, stats = question_statistics(matrix, np.ones(questions), [f"q{j}" for j in range(questions)],
                                      [0.25] * questions)
    assert np.array_equal(matrix, before) and matrix.dtype == np.float32  # read, never changed
    assert quiz.attempts == attempts and len(stats) == questions
    assert_no_nan(quiz, stats)
    totals = matrix.sum(axis=1, dtype=np.float64)
    p = matrix.mean(axis=0, dtype=np.float64)
    assert close(quiz.mean, 100 * totals.mean() / questions)
    kr20 = questions / (questions - 1) * (1 - float((p * (1 - p)).sum()) / float(totals.var()))
    assert close(quiz.alpha, 100 * kr20, rel=1e-8)
    assert 80 < quiz.alpha < 100  # one common ability behind all forty questions
    for q in stats:
        x = matrix[:, q.slot - 1].astype(np.float64)
        assert close(q.facility, 100 * p[q.slot - 1], rel=1e-9)
        assert q.discrimination_index > 0 and 0 < q.discriminative_efficiency <= 100
        assert q.intended_weight == 2.5 and q.random_guess == 25.0
    for slot in (1, 20, 40):
        x = matrix[:, slot - 1].astype(np.float64)
        assert close(stats[slot - 1].discrimination_index, 100 * np.corrcoef(x, totals - x)[0, 1], rel=1e-8)
    assert close(sum(q.effective_weight for q in stats), 100.0)


# --- Facility by country --------------------------------------------------------------------------


def test_facility_by_group_shows_a_question_one_country_cannot_answer():
    matrix = np.array([[1, 1, 0], [1, 1, 1], [1, 0, 1], [1, 0, 0], [0, 1, NAN], [1, 1, NAN]])
    groups = np.array(["md", "md", "ge", "ge", "ua", "ua"])
    by_group = facility_by_group(matrix, [1, 1, 1], groups, ["ge", "md", "ua", "am"])
    assert by_group["md"] == [100.0, 100.0, 50.0]
    assert by_group["ge"] == [100.0, 0.0, 50.0]  # question 2 fails in Georgia alone: check its translation
    assert by_group["ua"] == [50.0, 100.0, None]  # no Ukrainian attempt drew question 3
    assert by_group["am"] == [None, None, None]
    codes = np.array([1, 1, 0, 0, 2, 2])
    assert facility_by_group(matrix.astype(np.float32), [1, 1, 1], codes, ["ge", "md", "ua", "am"]) == by_group


def test_facility_by_group_scales_by_the_max_mark():
    assert facility_by_group([[2, 0.5], [1, 0.5]], [2, 1], np.array([0, 0]), ["x"]) == {"x": [75.0, 50.0]}


def test_facility_by_group_refuses_unknown_groups():
    with pytest.raises(ValueError, match=r"0\.\.1"):
        facility_by_group([[1], [0]], [1], np.array([0, 2]), ["a", "b"])
    with pytest.raises(ValueError, match="not in group_names: zz"):
        facility_by_group([[1], [0]], [1], np.array(["a", "zz"]), ["a", "b"])
    with pytest.raises(ValueError, match="one group per attempt"):
        facility_by_group([[1], [0]], [1], np.array([0]), ["a"])
    with pytest.raises(ValueError, match="repeat"):
        facility_by_group([[1], [0]], [1], np.array([0, 0]), ["a", "a"])


# --- Flags, CSV, input checks ----------------------------------------------------------------------


def stat(facility=50.0, discrimination=40.0) -> QuestionStats:
    return QuestionStats(slot=1, key="q", attempts=10, facility=facility, sd=30.0, random_guess=None,
                         intended_weight=10.0, effective_weight=10.0, discrimination_index=discrimination,
                         discriminative_efficiency=50.0)


@pytest.mark.parametrize(("facility", "discrimination", "flags"), [
    (50.0, 40.0, []),
    (90.0, 40.0, ["easy"]),
    (89.99, 40.0, []),
    (10.0, 40.0, ["hard"]),
    (10.01, 40.0, []),
    (50.0, 30.0, []),
    (50.0, 29.99, ["weak_discrimination"]),
    (50.0, 0.0, ["weak_discrimination"]),
    (50.0, -0.01, ["negative_discrimination"]),
    (97.0, -5.0, ["easy", "negative_discrimination"]),
    (None, None, []),
])
def test_flags(facility, discrimination, flags):
    assert flag(stat(facility, discrimination)) == flags


def test_csv_rows():
    quiz, questions = run(WORKED, [1, 1, 1], [0.25, None, 0.5])
    rows = to_csv_rows(quiz, questions)
    assert rows[0][:4] == ["Slot", "Question", "Attempts", "Facility index (%)"]
    assert rows[1] == ["1", "q1", "4", "75.00", "50.00", "25.00", "33.33", "31.70", "52.22", "100.00"]
    assert rows[2][5] == ""  # no random guess score: an empty cell, as Moodle leaves it
    assert rows[4] == [] and rows[5] == ["Quiz statistic", "Value"]
    figures = dict(rows[6:])
    assert figures["Attempts"] == "4" and figures["Average grade (percent of max)"] == "50.00"
    assert figures["Skewness"] == "0.00" and figures["Kurtosis"] == "-1.20"
    assert figures["Coefficient of internal consistency (%)"] == "75.00"
    assert figures["Standard error (percent of max)"] == "21.52"
    assert all(len(row) == 10 for row in rows[:4])


def test_csv_rows_of_an_empty_quiz_and_a_hostile_key():
    quiz, questions = question_statistics(np.empty((0, 1)), np.ones(1), ["=HYPERLINK(\"x\")"], [None])
    rows = to_csv_rows(quiz, questions)
    assert rows[1][1] == "'=HYPERLINK(\"x\")"  # a spreadsheet would run it as a formula
    assert rows[1][3:] == ["", "", "", "100.00", "", "", ""]
    assert rows[2] == [] and rows[3] == ["Quiz statistic", "Value"]
    assert dict(rows[4:])["Average grade (percent of max)"] == ""


@pytest.mark.parametrize(("call", "message"), [
    (lambda: question_statistics(np.ones(2), np.ones(2), ["a", "b"], [None, None]), "2-D"),
    (lambda: run([[1, 0]], [1]), "1 max marks for 2 questions"),
    (lambda: question_statistics(np.ones((2, 2)), np.ones(2), ["a"], [None, None]), "1 keys for 2"),
    (lambda: run([[1, 0]], [1, 1], [None]), "1 random guess scores for 2"),
    (lambda: run([[1, 0]], [1, 1], [25.0, None]), "0.25, not 25"),
    (lambda: run([[1, 0]], [1, -1]), "not negative"),
    (lambda: run([[1, 0]], [0, 0]), "worth marks"),
    (lambda: run([[1, float("inf")]], [1, 1]), "question 2 must be finite"),
    (lambda: question_statistics(np.array([["a"]]), np.ones(1), ["a"], [None]), "numbers"),
])
def test_input_mistakes_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()
