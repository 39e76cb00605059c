"""The environment variables :mod:`app.cloud.emulator.motoserver` reads (fix 7, IAM enforcement), apart so
the emulator can name them without importing moto's server into its own process."""

from __future__ import annotations

#: access key ids of the stack's service principals: with enforcement on, moto does not authorize them
SERVICE_KEYS_ENV = "REELWRIGHT_EMULATOR_SERVICE_KEYS"
#: the tenant role's ARN: GetCredentialsForIdentity assumes it, narrowed to the identity
TENANT_ROLE_ENV = "REELWRIGHT_EMULATOR_TENANT_ROLE"
#: the emulator's bucket, for rendering the tenant policy
BUCKET_ENV = "REELWRIGHT_EMULATOR_BUCKET"
