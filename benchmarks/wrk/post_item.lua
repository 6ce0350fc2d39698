-- S4: POST /items with the JSON body every app validates against the Item model.
wrk.method = "POST"
wrk.body = '{"name":"widget","price":9.5,"tags":["a","b"]}'
wrk.headers["Content-Type"] = "application/json"
