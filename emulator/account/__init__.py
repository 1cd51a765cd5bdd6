"""One endpoint for the whole AWS account: AWS Batch and CloudWatch Logs are served by this
emulator's own protocol layer, every other service moto implements by moto's server, in the same
process (routing.py decides, front.py forwards, moto_gateway.py holds moto)."""
