from src.app import build_request, read_prediction


def test_request_columns_follow_the_contract_order():
    request = build_request([{"age": 30, "income": 1.0, "region": None}])
    assert request["input_data"]["columns"] == ["age", "income", "region"]
    assert request["input_data"]["data"] == [[30, 1.0, None]]


def test_reads_both_answer_shapes():
    assert read_prediction([1, 2.5]) == [1.0, 2.5]
    assert read_prediction({"predictions": [3]}) == [3.0]
