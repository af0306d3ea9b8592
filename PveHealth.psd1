@{
    # ModuleVersion is stamped by build.ps1 from <VersionPrefix> in Directory.Build.props (the one place it lives).
    ModuleVersion        = '0.0.0'
    GUID                 = '6f1d3c1e-5a7b-4e42-9a57-2d0c7b9e4f11'
    Author               = 'PveHealth contributors'
    CompanyName          = 'PveHealth'
    Copyright            = '(c) PveHealth contributors. MIT License.'
    Description          = 'Health checks for a Proxmox VE estate built with Terraform: guests (ping, SSH, Proxmox API, Docker, guest agent), the Prometheus/Grafana/Alertmanager stack and the Terraform state in MinIO, with Prometheus textfile metrics.'
    # PowerShell 7.4 is the first release on .NET 8, the module's target framework.
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    RootModule           = 'PveHealth.PowerShell.dll'
    # The output types, loaded into the default context so scripts can name [PveHealth.Model.CheckStatus] etc.
    RequiredAssemblies   = @('PveHealth.Model.dll')
    FormatsToProcess     = @('PveHealth.Format.ps1xml')
    CmdletsToExport      = @(
        'Get-PveInventory'
        'Test-PveVm'
        'Test-PveMonitoring'
        'Test-PveMinio'
        'Test-PveDrift'
        'Invoke-PveHealthCheck'
        'Export-PveHealthMetrics'
        'ConvertTo-PveHealthReport'
        'Test-PveHealthConfig'
        'Get-PveHealthConfig'
        'New-PveHealthConfig'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            # PSEdition_Core and Linux are the tags gallery search filters on (Find-PSResource -Tag Linux).
            Tags         = @('Proxmox', 'PVE', 'Monitoring', 'HealthCheck', 'Prometheus', 'Terraform', 'MinIO', 'Linux', 'PSEdition_Core')
            ProjectUri   = 'https://github.com/pvehealth/PveHealth'
            LicenseUri   = 'https://github.com/pvehealth/PveHealth/blob/main/LICENSE'
            ReleaseNotes = 'Guest, monitoring-stack, MinIO/Terraform-state, node and recovery checks (Invoke-PveHealthCheck, Test-*), drift against Terraform (Test-PveDrift), Prometheus textfile metrics (Export-PveHealthMetrics), HTML/Markdown/JSON reports (ConvertTo-PveHealthReport), the scheduled entry script in bin/. Changes: https://github.com/pvehealth/PveHealth/commits/main'
        }
    }
}
