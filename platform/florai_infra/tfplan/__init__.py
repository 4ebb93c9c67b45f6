"""The plan as Terraform-plan JSON, so AWS-aware scanners (Checkov's terraform_plan framework) can read it."""
