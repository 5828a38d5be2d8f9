"""A case through intake into assessment, driven through the engine with the real forms."""


def test_intake_hands_over_to_assessment(driver):
    case_id = driver.new_case()
    assert driver.pathways(case_id) == ["intake"]
    driver.walk(case_id, until=lambda: "assessment" in driver.pathways(case_id))
    assert driver.pathways(case_id) == ["intake", "assessment"]
    open_tasks = [t.bpmn_id for t in driver.open_tasks(case_id)]
    assert open_tasks == ["needs_assessment"]
