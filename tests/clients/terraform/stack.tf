# A Batch stack as a Terraform user writes it, applied by test_terraform.py against the emulator.
# Lower-case `type` values are written as the provider's documentation allows; the retry actions
# are sent in lower case by the provider whatever is written.

variable "endpoint" {
  type = string
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true

  endpoints {
    batch = var.endpoint
  }
}

resource "aws_batch_compute_environment" "ce" {
  compute_environment_name = "tf-ce"
  type                     = "managed"
  tags                     = { team = "data" }

  compute_resources {
    type                = "ec2"
    allocation_strategy = "BEST_FIT_PROGRESSIVE"
    max_vcpus           = 16
    min_vcpus           = 0
    instance_type       = ["optimal"]
    instance_role       = "arn:aws:iam::123456789012:instance-profile/ecsInstanceRole"
    subnets             = ["subnet-12345678"]
    security_group_ids  = ["sg-12345678"]
  }
}

resource "aws_batch_scheduling_policy" "fair_share" {
  name = "tf-fair-share"
  tags = { team = "data" }

  fair_share_policy {
    compute_reservation = 1
    share_decay_seconds = 3600

    share_distribution {
      share_identifier = "A1*"
      weight_factor    = 0.1
    }

    share_distribution {
      share_identifier = "A2"
      weight_factor    = 0.2
    }
  }
}

resource "aws_batch_job_queue" "queue" {
  name                  = "tf-queue"
  state                 = "ENABLED"
  priority              = 1
  scheduling_policy_arn = aws_batch_scheduling_policy.fair_share.arn
  tags                  = { team = "data" }

  compute_environment_order {
    order               = 1
    compute_environment = aws_batch_compute_environment.ce.arn
  }
}

resource "aws_batch_job_definition" "job" {
  name                  = "tf-job"
  type                  = "container"
  platform_capabilities = ["EC2"]
  propagate_tags        = true
  scheduling_priority   = 5
  parameters            = { greeting = "hello" }
  tags                  = { team = "data" }

  container_properties = jsonencode({
    command = ["echo", "Ref::greeting"]
    image   = "busybox:latest"
    resourceRequirements = [
      { type = "VCPU", value = "1" },
      { type = "MEMORY", value = "512" }
    ]
  })

  retry_strategy {
    attempts = 3

    evaluate_on_exit {
      action       = "RETRY"
      on_exit_code = "1"
    }

    evaluate_on_exit {
      action    = "exit"
      on_reason = "*"
    }
  }

  timeout {
    attempt_duration_seconds = 600
  }
}

# The provider sends `propagateTags: false` with this EKS definition too.
resource "aws_batch_job_definition" "eks" {
  name = "tf-eks-job"
  type = "container"

  eks_properties {
    pod_properties {
      host_network = true

      containers {
        image   = "public.ecr.aws/amazonlinux/amazonlinux:2023"
        command = ["sleep", "60"]

        resources {
          limits = {
            cpu    = "1"
            memory = "1024Mi"
          }
        }
      }

      metadata {
        labels = { environment = "test" }
      }
    }
  }
}

resource "aws_batch_job_definition" "fargate" {
  name                  = "tf-fargate-job"
  type                  = "container"
  platform_capabilities = ["FARGATE"]

  container_properties = jsonencode({
    command                      = ["echo", "test"]
    image                        = "busybox"
    executionRoleArn             = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
    fargatePlatformConfiguration = { platformVersion = "LATEST" }
    resourceRequirements = [
      { type = "VCPU", value = "0.25" },
      { type = "MEMORY", value = "512" }
    ]
  })
}
